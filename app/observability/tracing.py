"""Optional OpenTelemetry traces: one span per GraphQL operation, its parsing, validation
and resolvers, exported over OTLP/HTTP.

On when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; the
exporter reads the other standard OTEL_* variables itself. Needs the `otel` extra:
pip install -e '.[otel]'.

Spans never carry what clients sent: no argument or variable values, no query text, no
exception messages or stack traces (chat messages, document text and system prompts pass
through all of these). Strawberry's own OpenTelemetryExtension exports all of them, so
`schema_extension()` is an extension of ours that sets only these attributes, and the
exporter drops every other attribute, whatever set it (ALLOWED_ATTRIBUTES):

    component               "graphql"
    graphql.operation.name  the operation's name, only when it is a GraphQL Name
    graphql.operation.type  query, mutation or subscription
    graphql.field.name      resolver spans: the schema field resolved
    graphql.parentType      resolver spans: the type the field belongs to
    graphql.path            resolver spans: response keys (field names or aliases, both
                            GraphQL Names) and list indices
    askbase.request_id      the request's id (X-Request-ID), as in the logs and errors
    askbase.error.code      the failure's contract code (BAD_USER_INPUT, NOT_FOUND, ...)
    error.type              resolver spans: the class name of the exception raised

A failed span has the ERROR status without a description. Exceptions are not recorded as
span events; the exporter keeps only events named "exception", with only their
`exception.type` (ALLOWED_EVENT_ATTRIBUTES), and links without attributes. Span names
are "GraphQL <Query|Mutation|Subscription>[: <operation name>]", "GraphQL Parsing",
"GraphQL Validation" and "GraphQL Resolving: <field name>". To export another attribute,
add its name here and make sure that its value can never hold client data.

The filter runs at the source and again in the exporter: an SDK span processor cannot
remove attributes (they are immutable once the span has ended), so the exporter copies
each span with the allowed attributes only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from inspect import isawaitable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.extensions.tracing.utils import should_skip_tracing
from strawberry.extensions.utils import get_path_from_info
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from askbase.app.core.errors import AppError, is_outage
from askbase.app.observability.logging import request_id_var

if TYPE_CHECKING:
    from graphql import GraphQLResolveInfo
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span
    from opentelemetry.util.types import AttributeValue

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

ALLOWED_ATTRIBUTES = frozenset(
    {
        "component",
        "graphql.operation.name",
        "graphql.operation.type",
        "graphql.field.name",
        "graphql.parentType",
        "graphql.path",
        "askbase.request_id",
        "askbase.error.code",
        "error.type",
    }
)
ALLOWED_EVENT_ATTRIBUTES = frozenset({"exception.type"})

_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,99}$")  # a GraphQL Name, bounded
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")

# The provider of the running app: extensions made per operation take their tracer from
# it, not from OpenTelemetry's global provider, which can be set only once per process.
_provider: TracerProvider | None = None


def tracing_requested() -> bool:
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


class Tracing:
    """The tracer provider of this process, set up once, flushed at shutdown."""

    def __init__(self, service_name: str, version: str) -> None:
        global _provider
        try:
            from opentelemetry import trace
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError as error:
            raise RuntimeError(
                "OTEL_EXPORTER_OTLP_ENDPOINT is set, but OpenTelemetry is not installed: "
                "pip install -e '.[otel]'"
            ) from error
        resource = Resource.create({"service.name": service_name, "service.version": version})
        self.provider = TracerProvider(resource=resource)
        exporter = allow_listed(OTLPSpanExporter())
        self.provider.add_span_processor(BatchSpanProcessor(exporter))
        if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            trace.set_tracer_provider(self.provider)  # for other instrumentation, if any
        _provider = self.provider

    def shutdown(self) -> None:
        global _provider
        if _provider is self.provider:
            _provider = None
        self.provider.shutdown()  # exports what is still buffered


def allowed_only(span: ReadableSpan) -> ReadableSpan:
    """A copy of `span` with the allowed attributes only (see the module's docstring)."""
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.trace import Link, Status

    def keep(attributes: Any, allowed: frozenset[str]) -> dict[str, AttributeValue]:
        return {k: v for k, v in (attributes or {}).items() if k in allowed}

    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=keep(span.attributes, ALLOWED_ATTRIBUTES),
        events=[
            Event(e.name, keep(e.attributes, ALLOWED_EVENT_ATTRIBUTES), e.timestamp)
            for e in span.events
            if e.name == "exception"
        ],
        links=[Link(link.context) for link in span.links],
        kind=span.kind,
        status=Status(span.status.status_code),  # without its description
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def allow_listed(exporter: SpanExporter) -> SpanExporter:
    """`exporter`, sent copies of the spans that keep the allowed attributes only."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class AllowListExporter(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return exporter.export([allowed_only(span) for span in spans])

        def shutdown(self) -> None:
            exporter.shutdown()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return exporter.force_flush(timeout_millis)

    return AllowListExporter()


def safe_code(code: object) -> str | None:
    return code if isinstance(code, str) and _CODE.match(code) else None


def exception_code(error: BaseException) -> str:
    """The contract code that an exception reaches the client with: its own, the one
    that app.web.app.GraphQLApp gives a request that names no such operation or the
    wrong kind of operation, or INTERNAL/UNAVAILABLE when masked (schema.errors)."""
    if isinstance(error, CannotGetOperationTypeError):
        return "GRAPHQL_VALIDATION_FAILED"
    if isinstance(error, InvalidOperationTypeError | MissingQueryError):
        return "BAD_USER_INPUT"
    if isinstance(error, AppError):
        return safe_code(error.extensions.get("code")) or "INTERNAL"
    if isinstance(error, GraphQLError):
        return safe_code((error.extensions or {}).get("code")) or "BAD_USER_INPUT"
    return "UNAVAILABLE" if is_outage(error) else "INTERNAL"


class AllowListedTracing(SchemaExtension):
    """Spans of one operation (a fresh extension per operation) with allow-listed
    attributes only: names, kinds, timings, request id and error codes."""

    def __init__(self) -> None:
        from opentelemetry import trace

        self._tracer = trace.get_tracer("askbase.graphql", tracer_provider=_provider)
        self._operation: Span | None = None
        self._stage_code: str | None = None  # where pre-execution errors came from

    def on_operation(self) -> Iterator[None]:
        from opentelemetry.trace import SpanKind

        attributes: dict[str, AttributeValue] = {"component": "graphql"}
        request_id = request_id_var.get()
        if request_id != "-":
            attributes["askbase.request_id"] = request_id
        self._operation = span = self._tracer.start_span(
            "GraphQL Operation", kind=SpanKind.SERVER, attributes=attributes
        )
        raised: BaseException | None = None
        try:
            yield
        except BaseException as error:
            raised = error
            raise
        finally:
            self._end_operation(span, raised)

    def _end_operation(self, span: Span, raised: BaseException | None) -> None:
        from opentelemetry.trace import Status, StatusCode

        context = self.execution_context
        title = "Operation"
        try:
            kind = context.operation_type.value
        except RuntimeError:  # the document did not parse, or named no such operation
            pass
        else:
            span.set_attribute("graphql.operation.type", kind)
            title = kind.capitalize()
        name = context.operation_name
        if name and _NAME.match(name):
            span.set_attribute("graphql.operation.name", name)
            span.update_name(f"GraphQL {title}: {name}")
        else:
            span.update_name(f"GraphQL {title}")
        code = None
        if isinstance(raised, Exception):
            code = exception_code(raised)
        else:
            errors = getattr(context.result, "errors", None) or []
            if errors:
                code = self._error_code(errors[0])
        if code is not None:
            span.set_attribute("askbase.error.code", code)
            span.set_status(Status(StatusCode.ERROR))
        span.end()

    def _error_code(self, error: GraphQLError) -> str:
        """The code that schema.errors.ErrorCodes gives `error`: its own once set (when
        this extension leaves after ErrorCodes), else derived the same way."""
        code = safe_code((error.extensions or {}).get("code"))
        if code is not None:
            return code
        original = error.original_error
        if original is not None and not isinstance(original, GraphQLError) and error.path:
            return exception_code(original)
        stage = self._stage_code
        if stage is None and isinstance(error, GraphQLSyntaxError):
            stage = "GRAPHQL_PARSE_FAILED"
        if stage == "GRAPHQL_PARSE_FAILED" and "tokens" in error.message:
            stage = "GRAPHQL_VALIDATION_FAILED"  # the token limit is a validation rule
        return stage or "BAD_USER_INPUT"  # variables that did not coerce

    def _child(self, name: str) -> Span:
        from opentelemetry import trace

        context = trace.set_span_in_context(self._operation) if self._operation else None
        return self._tracer.start_span(name, context=context)

    def on_parse(self) -> Iterator[None]:
        span = self._child("GraphQL Parsing")
        try:
            yield
        finally:
            span.end()
            self._mark("GRAPHQL_PARSE_FAILED")

    def on_validate(self) -> Iterator[None]:
        span = self._child("GraphQL Validation")
        try:
            yield
        finally:
            span.end()
            self._mark("GRAPHQL_VALIDATION_FAILED")

    def _mark(self, code: str) -> None:
        if self._stage_code is None and self.execution_context.pre_execution_errors:
            self._stage_code = code

    async def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: str,
        **kwargs: Any,
    ) -> Any:
        from opentelemetry import trace
        from opentelemetry.trace import Status, StatusCode

        if self._operation is None or should_skip_tracing(_next, info):
            result = _next(root, info, *args, **kwargs)
            return await result if isawaitable(result) else result
        attributes: dict[str, AttributeValue] = {
            "component": "graphql",
            "graphql.field.name": info.field_name,
            "graphql.parentType": info.parent_type.name,
            "graphql.path": ".".join(map(str, get_path_from_info(info))),
        }
        # Arguments (kwargs) are never read: they are what clients send. No exception
        # events and no status descriptions: messages may quote client input.
        with self._tracer.start_as_current_span(
            f"GraphQL Resolving: {info.field_name}",
            context=trace.set_span_in_context(self._operation),
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                result = _next(root, info, *args, **kwargs)
                return await result if isawaitable(result) else result
            except Exception as error:
                span.set_attribute("error.type", type(error).__name__)
                span.set_attribute("askbase.error.code", exception_code(error))
                span.set_status(Status(StatusCode.ERROR))
                raise


def schema_extension() -> type[SchemaExtension]:
    return AllowListedTracing
