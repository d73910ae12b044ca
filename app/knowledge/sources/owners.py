"""Website sources as their owners manage them: add, sync, list, delete."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from askbase.app.auth.context import Context, visible_website
from askbase.app.core.errors import BadUserInput, NotFound
from askbase.app.core.pagination import Page, check_first, decode_cursor, make_page
from askbase.app.core.settings import Settings
from askbase.app.knowledge.sources.discover import normalize, valid_glob
from askbase.app.knowledge.sources.fetch import Guard, Refused, parse_allowed
from askbase.app.knowledge.storage import object_path
from askbase.database import sources

KINDS = ("crawl", "sitemap", "page")


@dataclass(frozen=True, slots=True)
class NewSource:
    url: str
    kind: str = "crawl"
    include_patterns: tuple[str, ...] = ()
    exclude_patterns: tuple[str, ...] = ()
    max_pages: int = 500
    resync_every_hours: int | None = None


async def check(settings: Settings, new: NewSource) -> str:
    """The normalised URL, or BAD_USER_INPUT with the reason (also for `askbase crawl`)."""
    if new.kind not in KINDS:
        raise BadUserInput("`kind` must be CRAWL, SITEMAP or PAGE.", field="kind")
    url = new.url.strip()
    if len(url) > 2048:
        raise BadUserInput("`url` is longer than 2048 characters.", field="url")
    if not 1 <= new.max_pages <= settings.crawl_max_pages:
        raise BadUserInput(
            f"`maxPages` must be between 1 and {settings.crawl_max_pages}.", field="maxPages"
        )
    if new.resync_every_hours is not None and not 1 <= new.resync_every_hours <= 8760:
        raise BadUserInput(
            "`resyncEveryHours` must be between 1 and 8760.", field="resyncEveryHours"
        )
    for field, patterns in (
        ("includePatterns", new.include_patterns),
        ("excludePatterns", new.exclude_patterns),
    ):
        if len(patterns) > 50:
            raise BadUserInput(f"`{field}` holds at most 50 patterns.", field=field)
        for pattern in patterns:
            if not valid_glob(pattern):
                raise BadUserInput(f"`{field}` has an invalid URL glob: {pattern!r}.", field=field)
    guard = Guard(allowed_hosts=parse_allowed(settings.crawl_allowed_private_hosts))
    try:
        await guard.address(url)  # resolves and checks; connects to nothing
    except Refused as refused:
        raise BadUserInput(f"`url` cannot be fetched: {refused}.", field="url") from None
    normal = normalize(url)
    if normal is None:
        raise BadUserInput("`url` must be an http or https URL.", field="url")
    return url if new.kind == "sitemap" else normal


async def insert(
    conn: asyncpg.Connection, settings: Settings, website_id: uuid.UUID, url: str, new: NewSource
) -> uuid.UUID:
    """Store a new source of a checked `url`, within the website's cap of sources."""
    limit = settings.crawl_max_sources
    if await sources.count_for(conn, website_id) >= limit:
        raise BadUserInput(f"A website has at most {limit} sources.", field="websiteId")
    source_id: uuid.UUID = await sources.insert(
        conn,
        website_id=website_id,
        url=url,
        kind=new.kind,
        include_patterns=new.include_patterns,
        exclude_patterns=new.exclude_patterns,
        max_pages=new.max_pages,
        resync_every_hours=new.resync_every_hours,
    )
    return source_id


async def add(ctx: Context, website_id: uuid.UUID, new: NewSource) -> asyncpg.Record:
    """Store the source and queue its first sync, in one transaction."""
    await ctx.owner()
    url = await check(ctx.state.settings, new)
    async with ctx.db() as conn:
        await visible_website(conn, website_id)
        source_id = await insert(conn, ctx.state.settings, website_id, url, new)
        await sources.enqueue_sync(conn, source_id, website_id)
        row = await sources.by_id(conn, source_id)
    assert row is not None
    return row


async def get(ctx: Context, source_id: uuid.UUID) -> asyncpg.Record | None:
    await ctx.owner()
    async with ctx.db() as conn:
        return await sources.by_id(conn, source_id)


async def of_website(ctx: Context, website_id: uuid.UUID) -> list[asyncpg.Record]:
    await ctx.owner()
    async with ctx.db() as conn:
        await visible_website(conn, website_id)
        return await sources.for_website(conn, website_id)


async def sync(ctx: Context, source_id: uuid.UUID) -> asyncpg.Record:
    await ctx.owner()
    async with ctx.db() as conn:
        row = await sources.by_id(conn, source_id)
        if row is None:
            raise NotFound("Website source not found.")
        await sources.enqueue_sync(conn, source_id, row["website_id"])
        row = await sources.by_id(conn, source_id)
    assert row is not None
    return row


async def delete(ctx: Context, source_id: uuid.UUID) -> bool:
    await ctx.owner()
    async with ctx.db() as conn:
        removed = await sources.delete(conn, source_id)
    if removed is None:
        raise NotFound("Website source not found.")
    store = ctx.state.store
    if store is not None:
        for row in removed:
            if row["storage"] == "supabase":
                await store.remove(object_path(row["website_id"], row["id"]))
    return True


async def pages(
    ctx: Context, source_id: uuid.UUID, first: int | None, after: str | None, state: str | None
) -> Page[asyncpg.Record]:
    await ctx.owner()
    limit = check_first(first, default=50)
    cursor = decode_cursor(after)
    async with ctx.db() as conn:
        rows = await sources.pages(conn, source_id, limit=limit + 1, after=cursor, state=state)
    return make_page(rows, limit)
