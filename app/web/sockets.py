"""Both WebSocket protocols held to one set of rules.

Every frame is read by the strict decoder (app/web/decoding.py) and checked for its shape
before Strawberry's handlers see it. A socket has `WS_INIT_TIMEOUT_SECONDS` to send one
`connection_init` (a second one is refused), runs at most `WS_MAX_OPERATIONS` operations at
once, and one client address holds at most `WS_MAX_CONNECTIONS_PER_IP` sockets. A bad frame
closes a graphql-transport-ws socket with 4400 (as that protocol asks) and is answered on the
legacy graphql-ws with `connection_error`, or `error` for an operation it can name. Tasks a
socket starts (keep-alives, operations, the init timeout) end with it, and their failures
are retrieved and logged, never left to "Task exception was never retrieved".
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncGenerator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.websockets import WebSocketDisconnect, WebSocketState
from starlette.websockets import WebSocketDisconnected as StarletteDisconnected
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import NonTextMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.unset import UnsetType

from askbase.app.auth.context import Context
from askbase.app.observability.logging import request_id_var
from askbase.app.web.decoding import MalformedRequest, loads, operation
from askbase.app.web.persisted import PersistedDocuments, PersistedQueryError

log = structlog.get_logger("askbase.ws")


@dataclass(frozen=True)
class SocketRules:
    """The limits a view holds its sockets to (from Settings)."""

    max_json_depth: int
    init_timeout_seconds: float
    max_operations: int


def rules_of(view: object) -> SocketRules:
    rules = getattr(view, "socket_rules", None)
    assert isinstance(rules, SocketRules), "the view has no socket_rules"
    return rules


@dataclass(frozen=True)
class BadFrame:
    """A frame that is not JSON (or not JSON within the limits): why, for the client."""

    reason: str


def _close_reason(text: str) -> str:
    """WebSocket close reasons are at most 123 bytes of UTF-8."""
    return text.encode()[:120].decode(errors="ignore")


def problem(message: object, *, legacy: bool) -> str | None:
    """What is wrong with a client message of either protocol, or None."""
    if isinstance(message, BadFrame):
        return message.reason
    if not isinstance(message, dict):
        return "A message must be a JSON object."
    kind = message.get("type")
    if not isinstance(kind, str):
        return "A message needs a `type` string."
    payload = message.get("payload")
    if kind in (("connection_init",) if legacy else ("connection_init", "ping", "pong")):
        return None if isinstance(payload, (dict, type(None))) else "`payload` must be an object."
    starts, stops = ("start", "stop") if legacy else ("subscribe", "complete")
    if kind in (starts, stops):
        op_id = message.get("id")
        if not isinstance(op_id, str) or not op_id:
            return f"A `{kind}` message needs an `id` string."
        if kind == starts:
            try:
                operation(payload, "The payload")
            except MalformedRequest as error:
                return str(error)
        return None
    if legacy and kind == "connection_terminate":
        return None
    return f"Unknown message type: {kind[:40]}"


class StrictAdapter(ASGIWebSocketAdapter):
    """Strawberry's ASGI socket with the strict decoder; a frame that does not decode is
    handed on as a BadFrame (so each protocol answers it its way), and a socket that is
    already closed reads as disconnected instead of raising."""

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        depth = rules_of(self.view).max_json_depth
        try:
            while self.ws.application_state == WebSocketState.CONNECTED:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None:
                    raise NonTextMessageReceived
                try:
                    yield loads(text, max_depth=depth)
                except MalformedRequest as error:
                    yield BadFrame(str(error))
        except (WebSocketDisconnect, StarletteDisconnected):
            return

    async def send_json(self, message: Mapping[str, object]) -> None:
        if self.ws.application_state != WebSocketState.CONNECTED:
            raise WebSocketDisconnected
        try:
            await super().send_json(message)
        except StarletteDisconnected as error:
            raise WebSocketDisconnected from error

    async def close(self, code: int, reason: str) -> None:
        if self.ws.application_state == WebSocketState.CONNECTED:
            with suppress(WebSocketDisconnect, StarletteDisconnected):
                await self.ws.close(code=code, reason=_close_reason(reason))


def error_payload(message: str, code: str) -> dict[str, object]:
    """One GraphQL error as error frames carry it: with its code and the request id."""
    return {"message": message, "extensions": {"code": code, "requestId": request_id_var.get()}}


def _limit_error(limit: int) -> dict[str, object]:
    return error_payload(
        f"This socket already runs {limit} operations; complete one first.", "BAD_USER_INPUT"
    )


# Close codes for a refused connection_init, by error code. The reference graphql-ws
# client (and Apollo's GraphQLWsLink, built on it) gives up at once on 4401 and 4500 and
# reports the close event, while it retries 4403 five times with backoff (~40 s before the
# application hears of it); 1013 ("try again later") is retried, as an outage should be.
REJECTION_CLOSE_CODES = {
    "UNAUTHENTICATED": 4401,
    "FORBIDDEN": 4401,
    "UNAVAILABLE": 1013,
    "RATE_LIMITED": 1013,
    "INTERNAL": 4500,
}


def rejection_close(payload: Mapping[str, object]) -> tuple[int, str]:
    """The close code and reason for a connection_init refused with `payload` (from
    on_ws_connect): the reason starts with the error code, e.g. `UNAUTHENTICATED: ...`."""
    code = str(payload.get("code") or "FORBIDDEN")
    message = str(payload.get("message") or "Forbidden")
    return REJECTION_CLOSE_CODES.get(code, 4401), _close_reason(f"{code}: {message}")


async def prepare_operation(
    view: object, context: Context, payload: dict[str, Any]
) -> dict[str, Any] | dict[str, object]:
    """A subscribe/start payload with its persisted document filled in (app/web/
    persisted.py) and the trusted-documents rule applied; or, when it cannot run, the
    error payload to answer it with."""
    persisted = getattr(view, "persisted", None)
    assert isinstance(persisted, PersistedDocuments), "the view has no persisted documents"
    try:
        found = operation(payload, "The payload")
        query = persisted.resolve(found.query, found.extensions, found.document_id)
        assert query is not None, "operation() lets no payload without a document through"
        await persisted.admit(context, query, found.extensions)
    except PersistedQueryError as error:
        return error_payload(error.message, error.code)
    return {**payload, "query": query}


def _retrieve(task: asyncio.Task[Any]) -> None:
    """A socket's task ended: a socket closing under it is expected, anything else is a
    bug and logged as one."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None and not isinstance(error, WebSocketDisconnected):
        log.error("a WebSocket task failed", exc_info=(type(error), error, error.__traceback__))


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, with every message checked before it is handled."""

    async def handle_message(self, message: Any) -> None:
        reason = problem(message, legacy=False)
        if reason is not None:
            await self.handle_invalid_message(reason)
            return
        if message["type"] == "connection_init" and message.get("payload") is None:
            message = {**message, "payload": {}}  # the protocol allows a null payload
        limit = rules_of(self.view).max_operations
        if (
            message["type"] == "subscribe"
            and self.connection_acknowledged
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            error = {"id": message["id"], "type": "error", "payload": [_limit_error(limit)]}
            await self.websocket.send_json(error)
            return
        if (
            message["type"] == "subscribe"
            and self.connection_acknowledged
            and message["id"] not in self.operations
        ):
            prepared = await prepare_operation(self.view, self.context, message["payload"])
            if "query" not in prepared:
                error = {"id": message["id"], "type": "error", "payload": [prepared]}
                await self.websocket.send_json(error)
                return
            message = {**message, "payload": prepared}
        await super().handle_message(message)

    async def handle_connection_init(self, message: Any) -> None:
        """As Strawberry's, except that a refused socket closes with a code the reference
        client acts on at once, and a reason that starts with the error code (see
        REJECTION_CLOSE_CODES); Strawberry closes every refusal with 4403, which that
        client retries for ~40 s."""
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        if self.connection_init_received:
            await self.websocket.close(code=4429, reason="Too many initialisation requests")
            return
        self.connection_init_received = True
        self.context.connection_params = message.get("payload") or {}
        try:
            ack = await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as error:
            await self.websocket.close(*rejection_close(error.payload))
            return
        if isinstance(ack, UnsetType) or ack is None:
            await self.send_message({"type": "connection_ack"})
        else:
            await self.send_message({"type": "connection_ack", "payload": ack})
        self.connection_acknowledged = True

    @staticmethod
    def _get_pre_execution_close_reason(error: Any) -> str | None:
        """Never: a document that does not parse ends that operation only, with an `error`
        message for its id (Strawberry closes the whole socket with 4400, ending every
        other live subscription on it)."""
        return None

    async def handle_invalid_message(self, error_message: str) -> None:
        await self.websocket.close(code=4400, reason=error_message)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        _retrieve(task)

    async def handle_task_exception(self, error: Exception) -> None:
        """Strawberry logs each failed operation here; a client that went away is not
        one (the task's exception is logged once, by _retrieve, when it is a bug)."""


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """The legacy graphql-ws (subscriptions-transport-ws), under the same rules as
    graphql-transport-ws: an init timeout, one connection_init, one keep-alive."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.connection_init_received = False

    async def handle(self) -> None:
        timeout = asyncio.create_task(self._close_without_init())
        try:
            await super().handle()
        finally:
            timeout.cancel()
            with suppress(asyncio.CancelledError):
                await timeout

    async def _close_without_init(self) -> None:
        await asyncio.sleep(rules_of(self.view).init_timeout_seconds)
        if not self.connection_init_received:
            await self.websocket.close(code=4408, reason="Connection initialisation timeout")

    async def handle_message(self, message: Any) -> None:
        reason = problem(message, legacy=True)
        if reason is not None:
            op_id = message.get("id") if isinstance(message, dict) else None
            if isinstance(op_id, str) and op_id and message.get("type") == "start":
                await self._error(op_id, reason)
            else:
                await self._connection_error(reason)
            return
        kind = message["type"]
        if kind == "connection_init":
            if self.connection_init_received:
                await self._connection_error("Too many initialisation requests.")
                await self.websocket.close(code=4429, reason="Too many initialisation requests")
                return
            self.connection_init_received = True
            if message.get("payload") is None:
                message = {**message, "payload": {}}
        limit = rules_of(self.view).max_operations
        if (
            kind == "start"
            and self.connection_acknowledged
            and message["id"] not in self.tasks
            and len(self.tasks) >= limit
        ):
            error = {"type": "error", "id": message["id"], "payload": _limit_error(limit)}
            await self.websocket.send_json(error)
            return
        if kind == "start" and self.connection_acknowledged:
            prepared = await prepare_operation(self.view, self.context, message["payload"])
            if "query" not in prepared:
                await self.websocket.send_json(
                    {"type": "error", "id": message["id"], "payload": prepared}
                )
                return
            message = {**message, "payload": prepared}
        await super().handle_message(message)
        if kind == "start" and (task := self.tasks.get(message["id"])) is not None:
            task.add_done_callback(_retrieve)

    async def handle_connection_init(self, message: Any) -> None:
        """As Strawberry's, except that a refused socket closes with 4403, as on
        graphql-transport-ws (not 1011, which says the server failed)."""
        self.context.connection_params = message["payload"]
        try:
            ack = await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as error:
            payload = {**error.payload, "requestId": request_id_var.get()}
            await self.websocket.send_json({"type": "connection_error", "payload": payload})
            await self.websocket.close(*rejection_close(error.payload))
            return
        if isinstance(ack, dict):
            await self.websocket.send_json({"type": "connection_ack", "payload": ack})
        else:
            await self.websocket.send_json({"type": "connection_ack"})
        self.connection_acknowledged = True
        if self.keep_alive:
            self.keep_alive_task = asyncio.create_task(self.handle_keep_alive())
            self.keep_alive_task.add_done_callback(_retrieve)

    async def handle_keep_alive(self) -> None:
        with suppress(WebSocketDisconnected):
            await super().handle_keep_alive()

    async def _connection_error(self, reason: str) -> None:
        payload = {"message": reason, "code": "BAD_USER_INPUT", "requestId": request_id_var.get()}
        with suppress(WebSocketDisconnected):
            await self.websocket.send_json({"type": "connection_error", "payload": payload})

    async def _error(self, op_id: str, reason: str) -> None:
        payload = error_payload(reason, "BAD_USER_INPUT")
        with suppress(WebSocketDisconnected):
            await self.websocket.send_json({"type": "error", "id": op_id, "payload": payload})


class SocketCount:
    """Sockets open at once per client address, in this process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: Counter[str] = Counter()

    def take(self, client: str) -> bool:
        if self.open[client] >= self.limit:
            return False
        self.open[client] += 1
        return True

    def give_back(self, client: str) -> None:
        self.open[client] -= 1
        if self.open[client] <= 0:
            del self.open[client]
