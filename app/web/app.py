"""create_app(settings): the Starlette application with GraphQL, health and middleware."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import structlog
import uvicorn
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.http.streaming import (
    HTTPStreamTransport,
    MultipartSubscriptionTransport,
    SSETransport,
)
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.graphql import OperationType

from askbase.app.auth.clients import request_client
from askbase.app.auth.context import Context, app_state
from askbase.app.core.errors import AppError, is_outage
from askbase.app.core.settings import Settings
from askbase.app.observability.logging import RequestIdMiddleware
from askbase.app.observability.tracing import tracing_requested
from askbase.app.runtime.lifespan import make_lifespan
from askbase.app.web.console import Console
from askbase.app.web.decoding import (
    MalformedRequest,
    loads,
    operation,
    place_files,
    query_params,
)
from askbase.app.web.downloads import serve_file
from askbase.app.web.graphiql import GraphiQL
from askbase.app.web.guards import (
    BodyLimitMiddleware,
    as_graphql_response,
    send_error,
    wants_graphql_response,
)
from askbase.app.web.negotiation import GRAPHQL_RESPONSE, JSON, MULTIPART, SSE, negotiate
from askbase.app.web.persisted import PersistedDocuments, PersistedQueryError
from askbase.app.web.probes import health, health_db, metrics_endpoint
from askbase.app.web.shutdown import AskbaseServer
from askbase.app.web.sockets import (
    LegacyWSHandler,
    SocketCount,
    SocketRules,
    StrictAdapter,
    TransportWSHandler,
)
from askbase.app.web.widget import demo_page, widget_operations, widget_script
from askbase.schema.build import build_schema

log = structlog.get_logger("askbase")


class LineFeedSSE(SSETransport):
    """Server-sent events with LF line ends: the SSE format allows CRLF too, but urql's
    parser (and others) split events on a blank line of LFs only."""

    def encode_event(self, event: str, data: str | None = None) -> str:
        return super().encode_event(event, data).replace("\r\n", "\n")

    def encode_comment(self, comment: str) -> str:
        return f": {comment}\n\n"


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view, with one strict decoding of every request and frame
    (app/web/decoding.py, app/web/sockets.py) and request errors as GraphQL JSON."""

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    websocket_adapter_class = StrictAdapter
    ide: GraphiQL | None = None  # the page browsers get at GET /graphql, when enabled
    stream_transport_classes_by_protocol: Mapping[str, type[HTTPStreamTransport]] = {
        MULTIPART_SUBSCRIPTION_PROTOCOL: MultipartSubscriptionTransport,
        GRAPHQL_SSE_PROTOCOL: LineFeedSSE,
    }

    def __init__(
        self,
        schema: Any,
        *,
        settings: Settings,
        persisted: PersistedDocuments,
        **options: Any,
    ) -> None:
        super().__init__(
            schema,
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
            max_subscriptions_per_connection=settings.ws_max_operations,
            **options,
        )
        self.settings = settings
        self.socket_rules = SocketRules(
            max_json_depth=settings.max_json_depth,
            init_timeout_seconds=settings.ws_init_timeout_seconds,
            max_operations=settings.ws_max_operations,
        )
        self.sockets = SocketCount(settings.ws_max_connections_per_ip)
        self.persisted = persisted
        # The stream types this route answers with (none on the upload route).
        self.streams = tuple(
            media
            for protocol, media in (
                (GRAPHQL_SSE_PROTOCOL, SSE),
                (MULTIPART_SUBSCRIPTION_PROTOCOL, MULTIPART),
            )
            if protocol in self.protocols
        )

    def should_render_graphql_ide(self, request: Any) -> bool:
        """As Strawberry's, but a GET that names a persisted document (APQ's
        `extensions`, or `documentId`) is an operation, not a browser asking for the IDE."""
        params = request.query_params
        if params.get("extensions") or params.get("documentId"):
            return False
        return bool(super().should_render_graphql_ide(request))

    async def render_graphql_ide(self, request: Request) -> Response:
        """The vendored GraphiQL (app/web/graphiql.py) instead of Strawberry's from a CDN."""
        if self.ide is None:
            raise HTTPException(404, "Not Found")
        return self.ide.page()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        return Context(state=app_state(request), request=request, response=response)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As Strawberry's, but request errors leave as GraphQL JSON with a code."""
        if scope["type"] == "websocket":
            await self._serve_socket(WebSocket(scope, receive=receive, send=send))
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as error:
            await self._refuse(send, request, error)
            return
        except PersistedQueryError as error:
            await self._refuse_persisted(send, request, error)
            return
        except ClientDisconnect:
            return  # nobody is left to answer
        finally:
            await request.close()  # closes uploaded files (spooled to disk when large)
        if wants_graphql_response(request.headers.get("accept", "")):
            response = as_graphql_response(response)
        await response(scope, receive, send)

    async def _refuse_persisted(
        self, send: Send, request: Request, error: PersistedQueryError
    ) -> None:
        """Before execution, as GraphQL-over-HTTP has request errors: 200 with
        application/json (where Apollo's persisted-query link looks for the code), 400
        with application/graphql-response+json."""
        graphql_response = wants_graphql_response(request.headers.get("accept", ""))
        await send_error(
            send,
            400 if graphql_response else 200,
            error.message,
            error.code,
            media_type=GRAPHQL_RESPONSE if graphql_response else "application/json",
        )

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        """A visitor of a website that accepts only trusted documents may run nothing
        else (refused before parsing); a document a client registered by its hash (APQ)
        is kept once that check passed."""
        if isinstance(request_data, GraphQLRequestData) and request_data.query is not None:
            await self.persisted.admit(context, request_data.query, request_data.extensions)
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    @staticmethod
    async def _refuse(send: Send, request: Request, error: HTTPException) -> None:
        # 406 (nothing acceptable) is the client's request too: BAD_USER_INPUT, one of
        # the contract's codes, with the HTTP status saying which kind.
        code = (
            "GRAPHQL_VALIDATION_FAILED"
            if error.reason.startswith("Unknown operation")
            else "BAD_USER_INPUT"
        )
        status, headers, reason = error.status_code, {}, error.reason
        graphql_response = wants_graphql_response(request.headers.get("accept", ""))
        cause = error.__cause__
        if (
            isinstance(cause, InvalidOperationTypeError)
            and cause.operation_type == OperationType.SUBSCRIPTION
            and request.method == "POST"
        ):
            status = 406
            reason = (
                "A subscription over HTTP needs `Accept: text/event-stream` (graphql-sse) "
                "or `multipart/mixed;subscriptionSpec=1.0`; or use the WebSocket at /graphql."
            )
        if (
            graphql_response
            and request.method == "GET"
            and isinstance(cause, InvalidOperationTypeError)
            and cause.operation_type == OperationType.MUTATION
        ):
            status, headers = 405, {"allow": "POST"}  # as GraphQL over HTTP asks
        await send_error(
            send,
            status,
            reason,
            code,
            headers=headers,
            media_type=GRAPHQL_RESPONSE if graphql_response else "application/json",
        )

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        """Every request through one strict decoder: GET parameters, JSON bodies and the
        multipart request spec's `operations` and `map` alike."""
        try:
            found = operation(await self._request_data(request))
        except MalformedRequest as error:
            raise HTTPException(400, str(error)) from None
        query = self.persisted.resolve(found.query, found.extensions, found.document_id)
        accept = request.headers.get("accept")
        choice = negotiate(accept, query, found.operation_name, streams=self.streams)
        if choice.media_type is None:
            offers = ", ".join((GRAPHQL_RESPONSE, JSON, *self.streams))
            raise HTTPException(406, f"None of the accepted media types is served here: {offers}.")
        protocol: Any = "http"
        if choice.stream:
            # The transports' own names ("sse", "multipart-subscription").
            transport = LineFeedSSE if choice.media_type == SSE else MultipartSubscriptionTransport
            protocol = transport.protocol
        return GraphQLRequestData(
            query=query,
            variables=found.variables,
            operation_name=found.operation_name,
            extensions=found.extensions,
            protocol=protocol,
        )

    async def _request_data(self, request: AsyncHTTPRequestAdapter) -> object:
        depth = self.settings.max_json_depth
        content_type, _ = parse_content_type(request.content_type or "")
        if request.method == "GET":
            return query_params(request.query_params, max_depth=depth)
        if content_type == "application/json":
            return loads(await request.get_body(), max_depth=depth)
        if self.multipart_uploads_enabled and content_type == "multipart/form-data":
            try:
                form = (await request.get_form_data()).form
            except (ValueError, StarletteHTTPException):
                raise MalformedRequest("The multipart body does not parse.") from None
            operations, files_map = form.get("operations"), form.get("map")
            if not isinstance(operations, str) or not isinstance(files_map, str):
                raise MalformedRequest(
                    "A multipart request needs `operations` and `map` fields "
                    "(the GraphQL multipart request spec)."
                )
            files = {name: part for name, part in form.items() if isinstance(part, UploadFile)}
            return place_files(
                loads(operations, max_depth=depth), loads(files_map, max_depth=depth), files
            )
        raise MalformedRequest("Unsupported content type: send application/json.")

    async def _serve_socket(self, websocket: WebSocket) -> None:
        """A socket counts against its client address's limit while it is open."""
        client = request_client(websocket, self.settings)
        if not self.sockets.take(client):
            await websocket.accept(subprotocol=await self.pick_websocket_subprotocol(websocket))
            await websocket.close(1013, "Too many connections from this address")
            return
        try:
            await self.run(websocket)
        finally:
            self.sockets.give_back(client)

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
        "max_selections": settings.max_selections,
        "max_duplicate_fields": settings.max_duplicate_fields,
        "introspection": settings.introspection_enabled,
        "tracing": tracing_requested(),
    }
    # Multipart requests (file uploads) only on a route of their own, for one mutation.
    persisted = PersistedDocuments.build(
        settings.trusted_manifest,
        widget_operations(settings.widget_dir).values(),
        cache_size=settings.apq_cache_size,
    )
    upload: Any = GraphQLApp(
        build_schema(**limits, upload_only=True),  # type: ignore[arg-type]
        settings=settings,
        persisted=persisted,
        graphql_ide=None,
        allow_queries_via_get=False,
        multipart_uploads_enabled=True,
    )
    graphql: Any = GraphQLApp(
        build_schema(**limits),  # type: ignore[arg-type]
        settings=settings,
        persisted=persisted,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        keep_alive=True,
        keep_alive_interval=15,
        # Sockets carry bearer tokens in connection_init, never cookies, so a foreign page
        # has no ambient credentials to abuse; each website's allowed origins are checked
        # in on_ws_connect instead.
        allowed_origins=["*"],
        # Subscriptions over HTTP, for clients that cannot open a WebSocket: graphql-sse
        # ("distinct connections" mode: one POST with `Accept: text/event-stream`, as
        # urql's fetchSubscriptions sends it) and Apollo Client's multipart protocol
        # (`Accept: multipart/mixed;subscriptionSpec=1.0`); see app/web/negotiation.py.
        subscription_protocols=(
            GRAPHQL_TRANSPORT_WS_PROTOCOL,
            GRAPHQL_WS_PROTOCOL,
            GRAPHQL_SSE_PROTOCOL,
            MULTIPART_SUBSCRIPTION_PROTOCOL,
        ),
    )
    graphql.ide = ide = GraphiQL.read() if settings.graphiql_enabled else None
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
            *(ide.routes() if ide else []),
            *Console.read().routes(),
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
        lifespan=frozen_after_startup(make_lifespan(settings)),
    )


def frozen_after_startup(lifespan: Any) -> Any:
    """What start-up built lives as long as the process: moved out of the garbage
    collector's sight (gc.freeze), so that its full collections walk only what requests
    make. Under a flood of requests they ran several times a second, ~80 ms each, most of
    it spent walking the schema, the pool and the models again and again."""

    @asynccontextmanager
    async def frozen(app: Starlette) -> AsyncIterator[Any]:
        async with lifespan(app) as state:
            gc.collect()
            gc.freeze()
            try:
                yield state
            finally:
                gc.unfreeze()

    return frozen


def server(settings: Settings, **overrides: Any) -> AskbaseServer:
    return AskbaseServer(server_config(settings, **overrides))


def server_config(settings: Settings, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration `askbase serve` runs with (tests use the same)."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "access_log": False,  # RequestIdMiddleware logs each request with its id
        "log_level": "warning",
        # uvicorn's own lines through askbase's logging (structlog, with request ids).
        "log_config": None,
        # Forwarded headers are honoured only through TRUSTED_PROXY_HEADER.
        "proxy_headers": False,
        "ws_max_size": 1 << 20,
        "ws_per_message_deflate": settings.ws_compression,
        "lifespan": "on",
    }
    options.update(overrides)
    return uvicorn.Config(create_app(settings), **options)
