"""Every error leaves with a contract code and the request id; unexpected ones are masked."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

import structlog
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry import Schema
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from askbase.app.auth.context import Context, begin_operation
from askbase.app.core.errors import AppError, is_outage
from askbase.app.observability.logging import request_id_var
from askbase.schema.types import SCALARS

MASKED_MESSAGE = "Internal server error"
OUTAGE_MESSAGE = "The service is temporarily unavailable; try again shortly."
log = structlog.get_logger("askbase.graphql")


def is_unexpected(error: GraphQLError) -> bool:
    """A resolver raised something that is not an AppError: a bug or an outage."""
    original = error.original_error
    return (
        original is not None
        and not isinstance(original, (AppError, GraphQLError))
        and error.path is not None
    )


class OperationScope(SchemaExtension):
    """Opens the per-operation cache that dataloaders live in (one per operation, also
    for each event of a subscription)."""

    def on_operation(self) -> Iterator[None]:
        begin_operation()
        yield


class OperationMetrics(SchemaExtension):
    """Counts each operation by name, kind and outcome (its first error's code). Listed
    before ErrorCodes, so that it reads the codes that ErrorCodes has set."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        errors = (context.result.errors if context.result else None) or []
        outcome = (errors[0].extensions or {}).get("code", "INTERNAL") if errors else "ok"
        try:
            kind = context.operation_type.value
        except RuntimeError:  # named no operation
            kind = "unknown"
        if outcome == "GRAPHQL_PARSE_FAILED":  # (its document is a stand-in: build.py)
            kind = "unknown"
        app_context = context.context
        metrics = app_context.state.metrics if isinstance(app_context, Context) else None
        if metrics is not None:
            name = metrics.operation_label(context.operation_name)
            metrics.operations.labels(name, kind, str(outcome)).inc()


class ErrorCodes(SchemaExtension):
    """Sets `extensions.code` and `extensions.requestId` on every error of a result;
    unexpected errors are masked (and logged by AskbaseSchema.process_errors)."""

    def __init__(self) -> None:
        self._pre_execution: dict[int, str] = {}

    def on_operation(self) -> Iterator[None]:
        self._pre_execution = {}
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [self._format(e) for e in result.errors]

    def on_stream_result(self, result: Any) -> None:  # type: ignore[override]
        """Results of a stream (every WebSocket and SSE result, errors before execution
        included) leave before the operation ends: their errors get their codes here."""
        if getattr(result, "errors", None):
            result.errors = [self._format(e) for e in result.errors]

    def on_parse(self) -> Iterator[None]:
        yield
        self._mark("GRAPHQL_PARSE_FAILED")

    def on_validate(self) -> Iterator[None]:
        yield
        self._mark("GRAPHQL_VALIDATION_FAILED")

    def _mark(self, code: str) -> None:
        for error in self.execution_context.pre_execution_errors or []:
            self._pre_execution.setdefault(id(error), code)

    def _format(self, error: GraphQLError) -> GraphQLError:
        extensions: dict[str, Any] = dict(error.extensions or {})
        message = error.message
        original = error.original_error
        if isinstance(original, AppError):
            extensions.update(original.extensions)
        elif is_unexpected(error):
            assert original is not None
            if is_outage(original):
                message, extensions = OUTAGE_MESSAGE, {"code": "UNAVAILABLE"}
            else:
                message, extensions = MASKED_MESSAGE, {"code": "INTERNAL"}
        elif "code" not in extensions:
            code = self._pre_execution.get(id(error))
            if code is None and isinstance(error, GraphQLSyntaxError):
                code = "GRAPHQL_PARSE_FAILED"
            if code == "GRAPHQL_PARSE_FAILED" and "tokens" in message:
                code = "GRAPHQL_VALIDATION_FAILED"  # the token limit is a validation rule
            # What is left failed while coercing variables: the client's input.
            extensions["code"] = code or "BAD_USER_INPUT"
        extensions["requestId"] = request_id_var.get()
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )


def _escaped(error: GraphQLError) -> GraphQLError:
    """An error without a code got past ErrorCodes: an exception that left the
    operation's extensions (a crash before execution). Masked and logged like any other
    unexpected error, never shown as it is."""
    if "code" in (error.extensions or {}):
        return error
    original = error.original_error or error
    log.error(
        "unexpected error before execution",
        exc_info=(type(original), original, original.__traceback__),
    )
    return GraphQLError(
        MASKED_MESSAGE, extensions={"code": "INTERNAL", "requestId": request_id_var.get()}
    )


class AskbaseSchema(Schema):
    def __init__(self, *, config: StrawberryConfig | None = None, **kwargs: Any) -> None:
        """The schema's own scalars (an RFC 3339 DateTime: schema/types.py) come with every
        schema, beside whatever a caller's config maps."""
        config = config or StrawberryConfig()
        config = dataclasses.replace(config, scalar_map={**SCALARS, **config.scalar_map})
        super().__init__(config=config, **kwargs)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Single-result execution cannot carry a subscription: refuse it up front.

        Subscriptions run through `subscribe` (WebSockets) or `stream` (SSE, multipart).
        """
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        allowed.discard(OperationType.SUBSCRIPTION)
        result = await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed,
            operation_extensions,
        )
        if result.errors:
            result.errors = [_escaped(error) for error in result.errors]
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log unexpected errors with their traceback; expected ones are client outcomes."""
        for error in errors:
            if is_unexpected(error):
                original = error.original_error
                assert original is not None
                log.error(
                    "unexpected error",
                    path=".".join(str(p) for p in error.path or []),
                    exc_info=(type(original), original, original.__traceback__),
                )
            else:
                code = (error.extensions or {}).get("code")
                log.info("graphql error", code=code, message=error.message)
