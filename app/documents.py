"""Documents as their owners see them; ingestion fills them (the knowledge-base work)."""

from __future__ import annotations

import hashlib
import uuid

import asyncpg

from app.context import Context
from app.errors import BadUserInput, NotFound, PayloadTooLarge
from app.ingest.detect import UnsupportedFile, detect
from app.pagination import Page, check_first, decode_cursor, make_page
from database import documents, jobs, websites


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


def _clean_filename(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if not name or name in (".", ".."):
        raise BadUserInput("`filename` must name a file.", field="filename")
    if len(name) > 255:
        raise BadUserInput("`filename` is longer than 255 characters.", field="filename")
    return name


async def add(ctx: Context, website_id: uuid.UUID, filename: str, data: bytes) -> asyncpg.Record:
    """Store a file and queue its ingestion: document, file and job in one transaction."""
    await ctx.owner()
    name = _clean_filename(filename)
    limit = ctx.state.settings.max_upload_bytes
    if len(data) > limit:
        raise PayloadTooLarge(f"The file exceeds {limit} bytes.", maxBytes=limit)
    if not data.strip():
        raise BadUserInput("The file is empty.", field="file")
    try:
        detected = detect(data, name)
    except UnsupportedFile as error:
        raise BadUserInput(
            f"Unsupported file: {error}. Send PDF, DOCX, HTML, Markdown or plain text.",
            field="file",
        ) from None
    async with ctx.db() as conn:
        if not await websites.by_ids(conn, [website_id], owner_view=True):
            raise NotFound("Website not found.")
        row = await documents.insert(
            conn,
            website_id=website_id,
            filename=name,
            content_type=detected.mime,
            data=data,
            sha256=hashlib.sha256(data).hexdigest(),
        )
        await jobs.enqueue(conn, row["id"], website_id)
    return row
