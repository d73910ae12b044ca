"""structlog set-up and the request-id middleware (pure ASGI, so contextvars hold)."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any, TextIO

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from askbase.app.observability.metrics import route_label
from askbase.database.pool import POOLER_ERRORS, POOLER_HINT

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def explain_pooler_errors(
    _logger: Any, _name: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """A lost prepared statement means a transaction-mode pooler that askbase was not
    told about: say which setting to change, on the line that logs the error."""
    error = event.get("exc_info")
    if error is True:
        error = sys.exc_info()[1]
    elif isinstance(error, tuple):
        error = error[1]
    if isinstance(error, POOLER_ERRORS):
        event["hint"] = POOLER_HINT
    return event


# JSON tracebacks without local variables: they hold tokens, message text, file bytes
# and secrets, which must never reach a log.
_json_traceback = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)


def configure_logging(*, json: bool, level: str) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json
        # Plain tracebacks: rich's would also print local variables (request data,
        # secrets) into the log, and take a second or more to render.
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    enrich: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        explain_pooler_errors,
    ]
    render = [_json_traceback if json else structlog.dev.set_exc_info, renderer]
    structlog.configure(
        processors=[*enrich, *render],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    _route_standard_logging(enrich, render, level)


class _StructlogHandler(logging.StreamHandler[TextIO]):
    """The root logger's handler that configure_logging installs (and replaces)."""


def _route_standard_logging(
    enrich: list[structlog.typing.Processor],
    render: list[structlog.typing.Processor],
    level: str,
) -> None:
    """Records of the standard library's `logging` (asyncio's and asyncpg's, uvicorn's,
    Strawberry's) come out as our own lines do: rendered by structlog, with the request id
    of the request that logged them, where they would otherwise reach stderr bare (the
    last-resort handler prints the message alone). Records below WARNING stay filtered
    out by the root logger, as before."""
    handler = _StructlogHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *enrich],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *render],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StructlogHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)


class RequestIdMiddleware:
    """Gives every HTTP request and WebSocket connection an id.

    The id comes from a well-formed incoming `X-Request-ID` or is generated; it is bound
    to every log line of the request and returned in the `X-Request-ID` header.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = structlog.get_logger("askbase.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] in ("http.response.start", "websocket.accept"):
                status = message.get("status", 101)
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            method = scope.get("method", "WS")
            self.log.info(
                "request",
                method=method,
                path=scope["path"],
                status=status,
                ms=round(seconds * 1000, 1),
            )
            state = scope.get("state", {}).get("askbase")
            if state is not None:
                route = route_label(scope["path"])
                state.metrics.requests.labels(method, route, str(status)).inc()
                state.metrics.request_seconds.labels(method, route).observe(seconds)
            structlog.contextvars.unbind_contextvars("request_id")
            request_id_var.reset(token)
