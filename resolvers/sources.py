"""Website source resolvers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg

from askbase.app.auth.context import Context
from askbase.app.core.errors import NotFound
from askbase.app.core.pagination import Page
from askbase.app.knowledge.sources import owners
from askbase.resolvers.arguments import parse_id

TERMINAL = ("idle", "failed")
STAT_KEYS = ("state", "discovered", "stored", "unchanged", "skipped", "failed", "removed")
POLL_SECONDS = 0.25


async def add(ctx: Context, website_id: str, new: owners.NewSource) -> asyncpg.Record:
    return await owners.add(ctx, parse_id(website_id, "websiteId"), new)


async def sync(ctx: Context, source_id: str) -> asyncpg.Record:
    return await owners.sync(ctx, parse_id(source_id, "id"))


async def delete(ctx: Context, source_id: str) -> bool:
    return await owners.delete(ctx, parse_id(source_id, "id"))


async def of_website(ctx: Context, website_id: str) -> list[asyncpg.Record]:
    return await owners.of_website(ctx, parse_id(website_id, "websiteId"))


async def get(ctx: Context, source_id: str) -> asyncpg.Record | None:
    return await owners.get(ctx, parse_id(source_id, "id"))


async def pages(
    ctx: Context, source_id: str, first: int | None, after: str | None, state: str | None
) -> Page[asyncpg.Record]:
    return await owners.pages(ctx, parse_id(source_id, "id"), first, after, state)


async def status_changes(ctx: Context, source_id: str) -> AsyncIterator[asyncpg.Record]:
    """The source now, then again on every change of its state or counts, ending once it
    is IDLE or FAILED. The row is polled, so changes made by any instance are seen."""
    sid = parse_id(source_id, "sourceId")
    await ctx.owner()
    last: tuple[object, ...] | None = None
    while True:
        row = await owners.get(ctx, sid)
        if row is None:
            raise NotFound("Website source not found.")
        now = tuple(row[k] for k in STAT_KEYS)
        if now != last:
            last = now
            yield row
        if row["state"] in TERMINAL:
            return
        await ctx.reauthorize()
        await asyncio.sleep(POLL_SECONDS)
