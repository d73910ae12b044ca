"""Ratings, knowledge gaps and activity resolvers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg
from strawberry.dataloader import DataLoader

from askbase.app.auth.context import Context, operation_cache
from askbase.app.insights import activity, feedback, gaps
from askbase.resolvers.arguments import parse_id


async def rate_message(
    ctx: Context, message_id: str, rating: str, comment: str | None
) -> asyncpg.Record:
    return await feedback.rate(ctx, parse_id(message_id, "messageId"), rating, comment)


def _feedback_loader(ctx: Context) -> DataLoader[uuid.UUID, asyncpg.Record | None]:
    cache = operation_cache()
    loader = cache.get("feedback")
    if loader is None:

        async def load(ids: list[uuid.UUID]) -> Sequence[asyncpg.Record | None]:
            return await feedback.of_messages(ctx, ids)

        loader = cache["feedback"] = DataLoader(load_fn=load)
    assert isinstance(loader, DataLoader)
    return loader


async def message_feedback(ctx: Context, message_id: str) -> asyncpg.Record | None:
    """A message's rating as a field of Message: one query per response."""
    await ctx.caller()
    return await _feedback_loader(ctx).load(parse_id(message_id, "id"))


async def knowledge_gaps(
    ctx: Context,
    website_id: str,
    since: datetime | None,
    until: datetime | None,
    first: int | None,
    include_resolved: bool,
) -> list[asyncpg.Record]:
    return await gaps.top(
        ctx, parse_id(website_id, "websiteId"), since, until, first, include_resolved
    )


async def resolve_knowledge_gap(ctx: Context, gap_id: str) -> asyncpg.Record:
    return await gaps.resolve(ctx, parse_id(gap_id, "id"))


async def activity_series(
    ctx: Context, website_id: str, since: datetime, until: datetime, unit: str
) -> list[asyncpg.Record]:
    return await activity.series(ctx, parse_id(website_id, "websiteId"), since, until, unit)
