"""Knowledge gaps for owners: the questions their documents did not answer, by meaning."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from askbase.app.auth.context import Context, visible_website
from askbase.app.core.errors import BadUserInput, NotFound
from askbase.database import gaps

MAX_FIRST = 100


async def top(
    ctx: Context,
    website_id: uuid.UUID,
    since: datetime | None,
    until: datetime | None,
    first: int | None,
    include_resolved: bool,
) -> list[asyncpg.Record]:
    await ctx.owner()
    limit = 20 if first is None else first
    if not 1 <= limit <= MAX_FIRST:
        raise BadUserInput(f"`first` must be between 1 and {MAX_FIRST}.", field="first")
    if since is not None and until is not None and since >= until:
        raise BadUserInput("`from` must be before `to`.", field="from")
    async with ctx.db() as conn:
        await visible_website(conn, website_id)
        return await gaps.top(
            conn,
            website_id,
            since=since,
            until=until,
            limit=limit,
            include_resolved=include_resolved,
        )


async def resolve(ctx: Context, gap_id: uuid.UUID) -> asyncpg.Record:
    """Hide a gap until one of its questions is asked again."""
    await ctx.owner()
    async with ctx.db() as conn:
        row = await gaps.resolve(conn, gap_id)
    if row is None:
        raise NotFound("Knowledge gap not found.")
    return row
