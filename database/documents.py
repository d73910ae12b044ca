"""Document queries (the rows are written by ingestion; owners read and delete them)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

COLUMNS = (
    "id, website_id, filename, content_type, size_bytes, status, error, chunk_count, "
    "created_at, sha256, storage, source_url"
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


async def delete(conn: asyncpg.Connection, document_id: uuid.UUID) -> asyncpg.Record | None:
    """Delete a document; its chunks and jobs go with it (foreign keys cascade)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "delete from public.documents where id = $1 returning id, website_id, storage",
        document_id,
    )
    return row


async def in_storage(conn: asyncpg.Connection, website_id: uuid.UUID) -> list[uuid.UUID]:
    """Ids of a website's documents whose files live in Supabase Storage."""
    rows = await conn.fetch(
        "select id from public.documents where website_id = $1 and storage = 'supabase'",
        website_id,
    )
    return [r["id"] for r in rows]


async def insert(
    conn: asyncpg.Connection,
    *,
    website_id: uuid.UUID,
    filename: str,
    content_type: str,
    data: bytes,
    sha256: str,
    document_id: uuid.UUID | None = None,
    storage: str = "postgres",
) -> asyncpg.Record:
    """The document row, and its file when it is kept in Postgres, in one transaction."""
    row = await conn.fetchrow(
        f"""
        insert into public.documents
          (id, website_id, filename, content_type, size_bytes, sha256, storage)
        values (coalesce($1, gen_random_uuid()), $2, $3, $4, $5, $6, $7) returning {COLUMNS}
        """,
        document_id,
        website_id,
        filename,
        content_type,
        len(data),
        sha256,
        storage,
    )
    assert row is not None
    if storage == "postgres":
        await conn.execute(
            "insert into public.document_files (document_id, website_id, data) values ($1, $2, $3)",
            row["id"],
            website_id,
            data,
        )
    return row


async def by_sha256(
    conn: asyncpg.Connection, website_id: uuid.UUID, sha256: str
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"select {COLUMNS} from public.documents where website_id = $1 and sha256 = $2 "
        "order by created_at desc limit 1",
        website_id,
        sha256,
    )
    return row


async def with_file(conn: asyncpg.Connection, document_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        select d.id, d.website_id, d.filename, d.content_type, d.storage, f.data
        from public.documents d left join public.document_files f on f.document_id = d.id
        where d.id = $1
        """,
        document_id,
    )
    return row


async def set_status(
    conn: asyncpg.Connection,
    document_id: uuid.UUID,
    status: str,
    *,
    error: str | None = None,
    chunk_count: int | None = None,
) -> None:
    await conn.execute(
        """
        update public.documents
        set status = $2, error = $3, chunk_count = coalesce($4, chunk_count), updated_at = now()
        where id = $1
        """,
        document_id,
        status,
        error,
        chunk_count,
    )


async def delete_by_filename(
    conn: asyncpg.Connection, website_id: uuid.UUID, filename: str
) -> None:
    await conn.execute(
        "delete from public.documents where website_id = $1 and filename = $2",
        website_id,
        filename,
    )
