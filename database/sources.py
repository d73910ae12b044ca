"""Website sources and their pages (owners read and manage them; syncs write them)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

COLUMNS = (
    "s.id, s.website_id, s.url, s.kind, s.include_patterns, s.exclude_patterns, s.max_pages, "
    "s.resync_every_hours, s.state, s.sync_started_at, s.last_synced_at, s.next_sync_at, "
    "s.error, s.created_at"
)
STATS = """
  (select count(*) from public.source_pages p
   where p.source_id = s.id and p.sync_at = s.sync_started_at) as discovered,
  (select count(*) from public.source_pages p
   where p.source_id = s.id and p.sync_at = s.sync_started_at and p.state = 'stored') as stored,
  (select count(*) from public.source_pages p
   where p.source_id = s.id and p.sync_at = s.sync_started_at and p.state = 'unchanged')
   as unchanged,
  (select count(*) from public.source_pages p
   where p.source_id = s.id and p.sync_at = s.sync_started_at and p.state = 'skipped') as skipped,
  (select count(*) from public.source_pages p
   where p.source_id = s.id and p.sync_at = s.sync_started_at and p.state = 'failed') as failed,
  (select count(*) from public.source_pages p
   where p.source_id = s.id and p.sync_at = s.sync_started_at and p.state = 'removed') as removed
"""
PAGE_COLUMNS = (
    "id, source_id, website_id, url, title, state, http_status, error, etag, last_modified, "
    "sha256, links, sync_at, fetched_at, document_id, created_at"
)


async def insert(
    conn: asyncpg.Connection,
    *,
    website_id: uuid.UUID,
    url: str,
    kind: str,
    include_patterns: Sequence[str],
    exclude_patterns: Sequence[str],
    max_pages: int,
    resync_every_hours: int | None,
) -> uuid.UUID:
    source_id: uuid.UUID = await conn.fetchval(
        """
        insert into public.website_sources (website_id, url, kind, include_patterns,
          exclude_patterns, max_pages, resync_every_hours)
        values ($1, $2, $3, $4, $5, $6, $7) returning id
        """,
        website_id,
        url,
        kind,
        list(include_patterns),
        list(exclude_patterns),
        max_pages,
        resync_every_hours,
    )
    return source_id


async def count_for(conn: asyncpg.Connection, website_id: uuid.UUID) -> int:
    count: int = await conn.fetchval(
        "select count(*) from public.website_sources where website_id = $1", website_id
    )
    return count


async def by_id(conn: asyncpg.Connection, source_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"select {COLUMNS}, {STATS} from public.website_sources s where s.id = $1", source_id
    )
    return row


async def for_website(conn: asyncpg.Connection, website_id: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"select {COLUMNS}, {STATS} from public.website_sources s where s.website_id = $1 "
        "order by s.created_at, s.id",
        website_id,
    )
    return rows


async def enqueue_sync(
    conn: asyncpg.Connection, source_id: uuid.UUID, website_id: uuid.UUID
) -> None:
    """Queue a sync unless one is queued or running already (one at a time per source)."""
    await conn.execute(
        """
        insert into public.jobs (source_id, website_id, kind) values ($1, $2, 'sync')
        on conflict (source_id) where kind = 'sync' and status in ('queued', 'running')
        do nothing
        """,
        source_id,
        website_id,
    )
    await conn.execute(
        "update public.website_sources set state = 'queued', error = null "
        "where id = $1 and state <> 'syncing'",
        source_id,
    )


async def enqueue_due(conn: asyncpg.Connection) -> int:
    """Queue the syncs whose schedule is due (any instance or worker may call this)."""
    rows = await conn.fetch(
        """
        with due as (
          select id, website_id from public.website_sources
          where next_sync_at <= now() and state in ('idle', 'failed')
          for update skip locked
        ), queued as (
          insert into public.jobs (source_id, website_id, kind)
          select id, website_id, 'sync' from due
          on conflict (source_id) where kind = 'sync' and status in ('queued', 'running')
          do nothing
          returning source_id
        )
        update public.website_sources s set state = 'queued', next_sync_at = null
        from due where s.id = due.id
        returning s.id
        """
    )
    return len(rows)


async def delete(conn: asyncpg.Connection, source_id: uuid.UUID) -> list[asyncpg.Record] | None:
    """Delete a source and the documents its pages stored; None when not found."""
    documents: list[asyncpg.Record] = await conn.fetch(
        """
        delete from public.documents d using public.source_pages p
        where p.source_id = $1 and d.id = p.document_id
        returning d.id, d.website_id, d.storage
        """,
        source_id,
    )
    gone = await conn.fetchval(
        "delete from public.website_sources where id = $1 returning id", source_id
    )
    return documents if gone is not None else None


async def start_sync(conn: asyncpg.Connection, source_id: uuid.UUID) -> asyncpg.Record | None:
    """Mark the source SYNCING. A sync that was interrupted (still SYNCING: its worker
    stopped) keeps its start time, so that the pages it already did count as done."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        update public.website_sources s
        set state = 'syncing', error = null,
            sync_started_at = case when s.state = 'syncing' and s.sync_started_at is not null
                                   then s.sync_started_at else now() end
        where s.id = $1 returning {COLUMNS}
        """,
        source_id,
    )
    return row


async def finish_sync(
    conn: asyncpg.Connection, source_id: uuid.UUID, state: str, error: str | None
) -> None:
    await conn.execute(
        """
        update public.website_sources
        set state = $2, error = $3, last_synced_at = now(),
            next_sync_at = case when resync_every_hours is null then null
                                else now() + make_interval(hours => resync_every_hours) end
        where id = $1
        """,
        source_id,
        state,
        error,
    )


async def page_by_url(
    conn: asyncpg.Connection, source_id: uuid.UUID, url: str
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"select {PAGE_COLUMNS} from public.source_pages where source_id = $1 and url = $2",
        source_id,
        url,
    )
    return row


async def save_page(
    conn: asyncpg.Connection,
    *,
    source_id: uuid.UUID,
    website_id: uuid.UUID,
    url: str,
    sync_at: datetime,
    state: str,
    http_status: int | None = None,
    error: str | None = None,
    title: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    sha256: str | None = None,
    links: Sequence[str] | None = None,
    document_id: uuid.UUID | None = None,
) -> None:
    """Record what this sync found at `url` (validators and hash kept when not given)."""
    await conn.execute(
        """
        insert into public.source_pages (source_id, website_id, url, sync_at, state,
          http_status, error, title, etag, last_modified, sha256, document_id, links,
          fetched_at)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now())
        on conflict (source_id, url) do update set
          sync_at = excluded.sync_at, state = excluded.state,
          http_status = excluded.http_status, error = excluded.error,
          title = coalesce(excluded.title, source_pages.title),
          etag = coalesce(excluded.etag, source_pages.etag),
          last_modified = coalesce(excluded.last_modified, source_pages.last_modified),
          sha256 = coalesce(excluded.sha256, source_pages.sha256),
          document_id = coalesce(excluded.document_id, source_pages.document_id),
          links = coalesce(excluded.links, source_pages.links),
          fetched_at = now()
        """,
        source_id,
        website_id,
        url,
        sync_at,
        state,
        http_status,
        error,
        title,
        etag,
        last_modified,
        sha256,
        document_id,
        None if links is None else list(links),
    )


async def remove_page(
    conn: asyncpg.Connection, page_id: uuid.UUID, sync_at: datetime, http_status: int | None
) -> None:
    """The page is gone: mark it REMOVED and delete its document (chunks cascade)."""
    await conn.execute(
        """
        with page as (
          update public.source_pages
          set state = 'removed', sync_at = $2, http_status = coalesce($3, http_status),
              error = null, etag = null, last_modified = null, sha256 = null,
              fetched_at = now()
          where id = $1
          returning document_id
        )
        delete from public.documents d using page where d.id = page.document_id
        """,
        page_id,
        sync_at,
        http_status,
    )


async def unseen_pages(
    conn: asyncpg.Connection, source_id: uuid.UUID, sync_at: datetime
) -> list[asyncpg.Record]:
    """Pages this sync did not find again (gone from the site, or excluded now)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"select {PAGE_COLUMNS} from public.source_pages "
        "where source_id = $1 and (sync_at is null or sync_at < $2) and state <> 'removed'",
        source_id,
        sync_at,
    )
    return rows


async def pages(
    conn: asyncpg.Connection,
    source_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    state: str | None,
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        select {PAGE_COLUMNS} from public.source_pages
        where source_id = $1
          and ($3::text is null or state = $3)
          and ($4::timestamptz is null or (created_at, id) > ($4, $5::uuid))
        order by created_at, id
        limit $2
        """,
        source_id,
        limit,
        state,
        after[0] if after else None,
        after[1] if after else None,
    )
    return rows


async def store_document(
    conn: asyncpg.Connection,
    document_id: uuid.UUID,
    *,
    source_url: str,
    filename: str,
    content_type: str,
    data: bytes,
    sha256: str,
    storage: str,
    anchors: dict[str, str] | None = None,
) -> None:
    """Point a document at its page and, when it exists already, give it the page's new
    content (its chunks are replaced by ingestion, in one transaction)."""
    await conn.execute(
        """
        update public.documents
        set source_url = $2, filename = $3, content_type = $4, size_bytes = $5, sha256 = $6,
            status = 'pending', error = null, updated_at = now(), source_anchors = $7::jsonb
        where id = $1
        """,
        document_id,
        source_url,
        filename,
        content_type,
        len(data),
        sha256,
        anchors or {},  # the pool encodes jsonb
    )
    if storage == "postgres":
        await conn.execute(
            "update public.document_files set data = $2 where document_id = $1",
            document_id,
            data,
        )
    await conn.execute(
        "update public.document_chunks set url = $2 where document_id = $1", document_id, source_url
    )


async def configure(
    conn: asyncpg.Connection,
    source_id: uuid.UUID,
    *,
    include_patterns: Sequence[str],
    exclude_patterns: Sequence[str],
    max_pages: int,
) -> None:
    """Change which pages a source takes (its next sync, or the rest of a running one)."""
    await conn.execute(
        "update public.website_sources set include_patterns = $2, exclude_patterns = $3, "
        "max_pages = $4 where id = $1",
        source_id,
        list(include_patterns),
        list(exclude_patterns),
        max_pages,
    )


async def sync_documents(conn: asyncpg.Connection, source_id: uuid.UUID) -> asyncpg.Record:
    """The documents of the pages that the current (or last) sync stored: how many, how
    many ingestion finished (READY or FAILED), how many failed, and their chunks."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        select count(d.id) as stored,
               count(d.id) filter (where d.status in ('ready', 'failed')) as done,
               count(d.id) filter (where d.status = 'failed') as failed,
               coalesce(sum(d.chunk_count) filter (where d.status = 'ready'), 0)::int as chunks
        from public.website_sources s
        join public.source_pages p on p.source_id = s.id and p.sync_at = s.sync_started_at
        join public.documents d on d.id = p.document_id
        where s.id = $1 and p.state = 'stored'
        """,
        source_id,
    )
    assert row is not None  # an aggregate: always one row
    return row


async def failed_in_sync(conn: asyncpg.Connection, source_id: uuid.UUID) -> list[asyncpg.Record]:
    """The pages of the current (or last) sync that failed, or whose document did: url
    and a readable error."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        select p.url, coalesce(p.error, d.error, 'failed') as error
        from public.website_sources s
        join public.source_pages p on p.source_id = s.id and p.sync_at = s.sync_started_at
        left join public.documents d on d.id = p.document_id
        where s.id = $1
          and (p.state = 'failed' or (p.state = 'stored' and d.status = 'failed'))
        order by p.created_at, p.id
        """,
        source_id,
    )
    return rows
