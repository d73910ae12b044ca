"""Documents as their owners see them; ingestion fills them (the knowledge-base work)."""

from __future__ import annotations

import uuid

import asyncpg

from app.context import Context
from app.errors import NotFound
from app.pagination import Page, check_first, decode_cursor, make_page
from database import documents, websites


async def get(ctx: Context, document_id: uuid.UUID) -> asyncpg.Record | None:
    await ctx.owner()
    async with ctx.db() as conn:
        found = await documents.by_ids(conn, [document_id])
    return found[0] if found else None


async def page(
    ctx: Context, website_id: uuid.UUID, first: int | None, after: str | None, status: str | None
) -> Page[asyncpg.Record]:
    await ctx.owner()
    limit = check_first(first)
    cursor = decode_cursor(after)
    async with ctx.db() as conn:
        if not await websites.by_ids(conn, [website_id], owner_view=True):
            raise NotFound("Website not found.")
        rows = await documents.page(conn, website_id, limit=limit + 1, after=cursor, status=status)
    return make_page(rows, limit)


async def delete(ctx: Context, document_id: uuid.UUID) -> bool:
    await ctx.owner()
    async with ctx.db() as conn:
        if not await documents.delete(conn, document_id):
            raise NotFound("Document not found.")
    return True
