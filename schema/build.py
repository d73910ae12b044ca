"""build_schema(): the schema with its limits, error codes and masking."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from functools import partial
from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType
from graphql.validation import ASTValidationRule, ValidationRule
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.printer import print_schema

from askbase.schema.errors import AskbaseSchema, ErrorCodes, OperationMetrics, OperationScope
from askbase.schema.root import Mutation, Query, Subscription


class ParseOnce(ParserCache):
    """Strawberry's parser cache, except that a document that fails to parse is left to
    Strawberry's own parse step, which reports the error like any other."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query:
            with suppress(GraphQLError):
                context.graphql_document = self.cached_parse_document(
                    context.query, **context.parse_options
                )
        yield


class UploadOnly(ValidationRule):
    """The multipart route serves file uploads and nothing else."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        fields = node.selection_set.selections
        if node.operation != OperationType.MUTATION or not all(
            isinstance(f, FieldNode) and f.name.value == "uploadDocument" for f in fields
        ):
            self.report_error(
                GraphQLError(
                    "This route serves only the uploadDocument mutation; "
                    "send other operations to /graphql.",
                    node,
                )
            )


def build_schema(
    *,
    max_depth: int = 10,
    max_aliases: int = 15,
    max_tokens: int = 2000,
    introspection: bool = True,
    upload_only: bool = False,
    tracing: bool = False,
) -> AskbaseSchema:
    # The rule classes are made once per schema: Strawberry's QueryDepthLimiter and
    # MaxAliasesLimiter make new ones per operation, and the validation cache, keyed by
    # the rules, then never hits (validation was a quarter of chatStream's CPU time).
    rules: list[type[ASTValidationRule]] = [depth_rule(max_depth, None), aliases_rule(max_aliases)]
    if upload_only:
        rules.append(UploadOnly)
    extensions: list[Any] = [
        # Classes and factories: a fresh extension per operation, no shared state.
        # Operations leave through these in reverse order: codes set, then counted.
        OperationScope,
        OperationMetrics,
        ErrorCodes,
        partial(AddValidationRules, rules),
        partial(MaxTokensLimiter, max_token_count=max_tokens),
        # Widgets send the same few documents over and over: parse and validate each once.
        partial(ParseOnce, maxsize=512),
        partial(ValidationCache, maxsize=512),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    if tracing:  # OpenTelemetry spans per operation and resolver (app/tracing.py)
        from askbase.app.observability.tracing import schema_extension

        extensions.append(schema_extension())
    return AskbaseSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
    )


def export_sdl() -> str:
    return print_schema(build_schema()) + "\n"
