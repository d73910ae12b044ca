"""Document queries (the rows are written by ingestion; owners read and delete them)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

COLUMNS = (
    "id, website_id, filename, content_type, size_bytes, status, error, chunk_count, created_at"
)


async def by_ids(conn: asyncpg.Connection, ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"select {COLUMNS} from public.documents where id = any($1::uuid[])", list(ids)
    )
    return rows


async def page(
    conn: asyncpg.Connection,
    website_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    status: str | None,
) -> list[asyncpg.Record]:
    """Up to `limit` documents of a website, newest first, optionally of one status."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        select {COLUMNS} from public.documents
        where website_id = $1
          and ($3::text is null or status = $3)
          and ($4::timestamptz is null or (created_at, id) < ($4, $5::uuid))
        order by created_at desc, id desc
        limit $2
        """,
        website_id,
        limit,
        status,
        after[0] if after else None,
        after[1] if after else None,
    )
    return rows


async def delete(conn: asyncpg.Connection, document_id: uuid.UUID) -> bool:
    """Delete a document; its chunks and jobs go with it (foreign keys cascade)."""
    deleted = await conn.fetchval(
        "delete from public.documents where id = $1 returning id", document_id
    )
    return deleted is not None
