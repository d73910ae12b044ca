"""Document resolvers (owners only)."""

from __future__ import annotations

import asyncpg

from app import documents
from app.context import Context
from app.errors import Unavailable
from app.pagination import Page
from app.validation import parse_id


async def document(ctx: Context, document_id: str) -> asyncpg.Record | None:
    return await documents.get(ctx, parse_id(document_id, "id"))


async def document_page(
    ctx: Context, website_id: str, first: int | None, after: str | None, status: str | None
) -> Page[asyncpg.Record]:
    return await documents.page(ctx, parse_id(website_id, "websiteId"), first, after, status)


async def delete_document(ctx: Context, document_id: str) -> bool:
    return await documents.delete(ctx, parse_id(document_id, "id"))


async def download_url(ctx: Context, document_id: str) -> str:
    await ctx.owner()
    parse_id(document_id, "id")
    raise Unavailable("Document files are not stored by this version yet.")
