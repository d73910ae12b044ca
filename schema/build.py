"""build_schema(): the schema with its limits, error codes and masking."""

from __future__ import annotations

from functools import partial
from typing import Any

from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.printer import print_schema

from schema.errors import AskbaseSchema, ErrorCodes
from schema.root import Mutation, Query, Subscription


def build_schema(
    *,
    max_depth: int = 10,
    max_aliases: int = 15,
    max_tokens: int = 2000,
    introspection: bool = True,
) -> AskbaseSchema:
    extensions: list[Any] = [
        # Classes and factories: a fresh extension per operation, no shared state.
        ErrorCodes,
        partial(QueryDepthLimiter, max_depth=max_depth),
        partial(MaxAliasesLimiter, max_alias_count=max_aliases),
        partial(MaxTokensLimiter, max_token_count=max_tokens),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return AskbaseSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
    )


def export_sdl() -> str:
    return print_schema(build_schema()) + "\n"
