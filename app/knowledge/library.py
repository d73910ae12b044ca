"""Documents as their owners see them; ingestion fills them (the knowledge-base work)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

import asyncpg

from askbase.app.auth.context import Context, visible_website
from askbase.app.core.errors import BadUserInput, NotFound, PayloadTooLarge, Unavailable
from askbase.app.core.pagination import Page, check_first, decode_cursor, make_page
from askbase.app.knowledge.ingest.detect import UnsupportedFile, detect
from askbase.app.knowledge.storage import StorageUnavailable, object_path
from askbase.database import documents, jobs

if TYPE_CHECKING:
    from askbase.app.runtime.state import AppState


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
        await visible_website(conn, website_id)
        rows = await documents.page(conn, website_id, limit=limit + 1, after=cursor, status=status)
    return make_page(rows, limit)


async def delete(ctx: Context, document_id: uuid.UUID) -> bool:
    await ctx.owner()
    async with ctx.db() as conn:
        row = await documents.delete(conn, document_id)
    if row is None:
        raise NotFound("Document not found.")
    store = ctx.state.store
    if row["storage"] == "supabase" and store is not None:  # after the row is gone
        await store.remove(object_path(row["website_id"], row["id"]))
    return True


async def supabase_download_url(
    ctx: Context, website_id: uuid.UUID, document_id: uuid.UUID, filename: str
) -> str:
    if ctx.state.store is None:
        raise Unavailable("The file is in Supabase Storage, which is not configured.")
    try:
        return await ctx.state.store.signed_url(
            object_path(website_id, document_id),
            ctx.state.settings.download_url_ttl_seconds,
            filename,
        )
    except StorageUnavailable:
        raise Unavailable("File storage is unavailable; try again shortly.") from None


async def create(
    state: AppState,
    session: Callable[[], AbstractAsyncContextManager[asyncpg.Connection]],
    website_id: uuid.UUID,
    filename: str,
    mime: str,
    data: bytes,
    sha256: str | None = None,
) -> asyncpg.Record:
    """Document, file and ingestion job, all or nothing (`sha256`: of `data`, if known).

    With Supabase Storage the object is written first and removed again when the
    transaction that records it fails, so no document ever points at a missing file.
    """
    store = state.store
    document_id = uuid.uuid4()
    path = object_path(website_id, document_id)
    if store is not None:
        try:
            await store.put(path, data, mime)
        except StorageUnavailable:
            raise Unavailable("File storage is unavailable; try again shortly.") from None
    try:
        async with session() as conn:
            await visible_website(conn, website_id)
            row = await documents.insert(
                conn,
                document_id=document_id,
                website_id=website_id,
                filename=filename,
                content_type=mime,
                data=data,
                sha256=sha256 or hashlib.sha256(data).hexdigest(),
                storage="postgres" if store is None else store.kind,
            )
            await jobs.enqueue(conn, row["id"], website_id)
    except BaseException:
        if store is not None:
            await store.remove(path)
        raise
    return row


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
    return await create(ctx.state, ctx.db, website_id, name, detected.mime, data)
