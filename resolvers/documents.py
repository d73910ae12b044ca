"""Document and search resolvers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import asyncpg

from askbase.app.auth.context import Context
from askbase.app.core.errors import BadUserInput, NotFound
from askbase.app.core.pagination import Page
from askbase.app.knowledge import library, retrieval
from askbase.app.web import downloads
from askbase.resolvers.arguments import parse_id

TERMINAL = ("ready", "failed")


async def document(ctx: Context, document_id: str) -> asyncpg.Record | None:
    return await library.get(ctx, parse_id(document_id, "id"))


async def document_page(
    ctx: Context, website_id: str, first: int | None, after: str | None, status: str | None
) -> Page[asyncpg.Record]:
    return await library.page(ctx, parse_id(website_id, "websiteId"), first, after, status)


async def delete_document(ctx: Context, document_id: str) -> bool:
    return await library.delete(ctx, parse_id(document_id, "id"))


async def add_text(ctx: Context, website_id: str, filename: str, text: str) -> asyncpg.Record:
    wid = parse_id(website_id, "websiteId")
    return await library.add(ctx, wid, filename, text.encode("utf-8"))


async def upload(ctx: Context, website_id: str, file: object) -> asyncpg.Record:
    wid = parse_id(website_id, "websiteId")
    await ctx.owner()
    limit = ctx.state.settings.max_upload_bytes
    read = getattr(file, "read", None)
    if read is None:
        raise BadUserInput("`file` must be an uploaded file.", field="file")
    data: bytes = await read(limit + 1)
    name = str(getattr(file, "filename", None) or "upload")
    return await library.add(ctx, wid, name, data)


async def download_url(
    ctx: Context, document_id: str, website_id: str, filename: str, storage: str
) -> str:
    await ctx.owner()
    if storage == "supabase":
        return await library.supabase_download_url(
            ctx, parse_id(website_id, "websiteId"), parse_id(document_id, "id"), filename
        )
    path = downloads.download_path(
        ctx.state.keys.download_secret,
        parse_id(document_id, "id"),
        ctx.state.settings.download_url_ttl_seconds,
    )
    base = ctx.state.settings.public_url or str(ctx.request.base_url)
    return base.rstrip("/") + path


async def run_search(
    ctx: Context, website_id: str, query: str, limit: int | None
) -> list[retrieval.Hit]:
    return await retrieval.run(ctx, parse_id(website_id, "websiteId"), query, limit)


async def status_changes(
    ctx: Context, document_id: str
) -> AsyncIterator[asyncpg.Record | Mapping[str, Any]]:
    """The document now, then again after every status change, until READY or FAILED.

    Changes arrive by NOTIFY from whichever instance made them; the document is also
    re-read every half minute, in case a notice was lost with a connection (every second
    behind a transaction-mode pooler, where nothing is announced).
    """
    doc_id = parse_id(document_id, "documentId")
    await ctx.owner()
    async with ctx.state.events.document_changes(doc_id) as changes:
        last: str | None = None
        notified = ""
        while True:
            row = await library.get(ctx, doc_id)
            if row is None:
                raise NotFound("Document not found.")
            if notified not in ("", last, row["status"], *TERMINAL):
                # A step that was over before the row was read (processing, when a
                # small file is ready at once): still shown, so that no change is missed.
                yield {**row, "status": notified}
            if row["status"] != last:
                last = row["status"]
                yield row
            if last in TERMINAL:
                return
            notified = ""
            await ctx.reauthorize()  # a long watch: the owner's token must still be valid
            with contextlib.suppress(TimeoutError):
                notified = await asyncio.wait_for(
                    changes.get(), timeout=ctx.state.events.recheck_seconds
                )
