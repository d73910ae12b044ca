"""HTTP-level guards: request body limits, and GraphQL-shaped request errors."""

from __future__ import annotations

import json

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from askbase.app.observability.logging import request_id_var
from askbase.app.web.negotiation import GRAPHQL_RESPONSE, choose, parse_accept


def error_body(message: str, code: str, **extensions: object) -> bytes:
    return json.dumps(
        {
            "errors": [
                {
                    "message": message,
                    "extensions": {"code": code, **extensions, "requestId": request_id_var.get()},
                }
            ]
        }
    ).encode()


async def send_error(
    send: Send,
    status: int,
    message: str,
    code: str,
    *,
    headers: dict[str, str] | None = None,
    media_type: str = "application/json",
    **extensions: object,
) -> None:
    body = error_body(message, code, **extensions)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media_type.encode()),
                (b"content-length", str(len(body)).encode()),
                *((k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses request bodies over a limit with 413 PAYLOAD_TOO_LARGE.

    Checks Content-Length first, then counts the bytes of chunked bodies as they arrive,
    so an oversized body is never buffered whole. Multipart bodies (file uploads) have a
    limit of their own.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        limit = self.max_upload_bytes if content_type.startswith("multipart/") else self.max_bytes
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(send, limit)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        await send_error(
            send,
            413,
            f"The request body exceeds {limit} bytes.",
            "PAYLOAD_TOO_LARGE",
            maxBytes=limit,
        )


def wants_graphql_response(accept: str) -> bool:
    """The client prefers the GraphQL-over-HTTP media type to plain JSON (by q, then by
    its order; a wildcard alone means plain JSON, as for clients that predate it)."""
    return choose(parse_accept(accept), ("application/json", GRAPHQL_RESPONSE)) == (
        GRAPHQL_RESPONSE
    )


def as_graphql_response(response: Response) -> Response:
    """A JSON result as application/graphql-response+json: a request that failed before
    execution (parse, validation, variables: errors without a path and no data) gets
    status 400 and no `data` entry, as the GraphQL-over-HTTP spec asks for that type."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return response  # an event stream, or an error already shaped
    body = json.loads(bytes(response.body))
    status = response.status_code
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors and body.get("data") is None and all("path" not in e for e in errors):
        body.pop("data", None)
        status = 400 if status == 200 else status
    headers = {
        k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")
    }
    return Response(json.dumps(body), status, headers=headers, media_type=GRAPHQL_RESPONSE)
