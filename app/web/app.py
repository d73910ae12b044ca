"""create_app(settings): the Starlette application with GraphQL, health and middleware."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
import uvicorn
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
)

from askbase.app.auth.context import Context, app_state
from askbase.app.core.errors import AppError, is_outage
from askbase.app.core.settings import Settings
from askbase.app.observability.logging import RequestIdMiddleware
from askbase.app.observability.tracing import tracing_requested
from askbase.app.runtime.lifespan import make_lifespan
from askbase.app.web.downloads import serve_file
from askbase.app.web.guards import (
    BodyLimitMiddleware,
    as_graphql_response,
    send_error,
    wants_graphql_response,
)
from askbase.app.web.probes import health, health_db, metrics_endpoint
from askbase.app.web.shutdown import AskbaseServer
from askbase.app.web.widget import demo_page, widget_script
from askbase.schema.build import build_schema

log = structlog.get_logger("askbase")


class GraphQLApp(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        return Context(state=app_state(request), request=request, response=response)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As Strawberry's, but request errors leave as GraphQL JSON with a code."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as error:
            code = (
                "GRAPHQL_VALIDATION_FAILED"
                if error.reason.startswith("Unknown operation")
                else "BAD_USER_INPUT"
            )
            await send_error(send, error.status_code, error.reason, code)
            return
        finally:
            await request.close()  # closes uploaded files (spooled to disk when large)
        if wants_graphql_response(request.headers.get("accept", "")):
            response = as_graphql_response(response)
        await response(scope, receive, send)

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        """Authenticate a WebSocket from its connection_init payload (or its headers)."""
        try:
            await context.principal()
        except AppError as error:
            raise ConnectionRejectionError({"message": error.message, "code": error.code}) from None
        except Exception as error:
            if not is_outage(error):
                log.exception("unexpected error while authenticating a WebSocket")
                raise ConnectionRejectionError({"code": "INTERNAL"}) from None
            raise ConnectionRejectionError({"code": "UNAVAILABLE"}) from None
        return None


def create_app(settings: Settings) -> Starlette:
    limits = {
        "max_depth": settings.max_query_depth,
        "max_aliases": settings.max_aliases,
        "max_tokens": settings.max_tokens,
        "introspection": settings.introspection_enabled,
        "tracing": tracing_requested(),
    }
    # Multipart requests (file uploads) only on a route of their own, for one mutation.
    upload: Any = GraphQLApp(
        build_schema(**limits, upload_only=True),  # type: ignore[arg-type]
        graphql_ide=None,
        allow_queries_via_get=False,
        multipart_uploads_enabled=True,
    )
    graphql: Any = GraphQLApp(
        build_schema(**limits),  # type: ignore[arg-type]
        graphql_ide="graphiql" if settings.development else None,
        keep_alive=True,
        keep_alive_interval=15,
        connection_init_wait_timeout=timedelta(seconds=10),
        # Sockets carry bearer tokens in connection_init, never cookies, so a foreign page
        # has no ambient credentials to abuse; each website's allowed origins are checked
        # in on_ws_connect instead.
        allowed_origins=["*"],
        # graphql-sse ("distinct connections" mode): a subscription as one POST with
        # `Accept: text/event-stream`, for clients that cannot open a WebSocket.
        subscription_protocols=(
            GRAPHQL_TRANSPORT_WS_PROTOCOL,
            GRAPHQL_WS_PROTOCOL,
            GRAPHQL_SSE_PROTOCOL,
        ),
    )
    return Starlette(
        routes=[
            Route("/health", health),
            Route("/health/db", health_db),
            Route("/metrics", metrics_endpoint),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/graphql/upload", upload, methods=["POST"]),
            Route("/files/{document_id}", serve_file, methods=["GET"]),
            Route(
                "/widget/chat-widget.js", widget_script(settings.widget_dir).serve, methods=["GET"]
            ),
            Route("/demo", demo_page, methods=["GET"]),
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(
                BodyLimitMiddleware,
                max_bytes=settings.max_request_bytes,
                max_upload_bytes=settings.max_upload_bytes,
            ),
            # Visitor origins are checked per website by the API itself; CORS only lets
            # browsers send bearer-token requests (no cookies are used).
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "x-request-id"],
                expose_headers=["x-request-id"],
                max_age=600,
            ),
        ],
        lifespan=make_lifespan(settings),
    )


def server(settings: Settings, **overrides: Any) -> AskbaseServer:
    return AskbaseServer(server_config(settings, **overrides))


def server_config(settings: Settings, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration `askbase serve` runs with (tests use the same)."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "access_log": False,  # RequestIdMiddleware logs each request with its id
        "log_level": "warning",
        # Forwarded headers are honoured only through TRUSTED_PROXY_HEADER.
        "proxy_headers": False,
        "ws_max_size": 1 << 20,
        "ws_per_message_deflate": settings.ws_compression,
        "lifespan": "on",
    }
    options.update(overrides)
    return uvicorn.Config(create_app(settings), **options)
