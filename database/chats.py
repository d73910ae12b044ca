"""Chat queries. Listing is newest first, paged by (created_at, id)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

COLUMNS = (
    "id, website_id, visitor_id, title, created_at, updated_at, "
    "handoff, handoff_note, handoff_requested_at, taken_over_at"  # 010_handoff.sql
)


async def insert(
    conn: asyncpg.Connection,
    *,
    website_id: uuid.UUID,
    visitor_id: uuid.UUID | None,
    title: str | None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"insert into public.chats (website_id, visitor_id, title) values ($1, $2, $3) "
        f"returning {COLUMNS}",
        website_id,
        visitor_id,
        title,
    )
    assert row is not None
    return row


async def by_ids(conn: asyncpg.Connection, ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"select {COLUMNS} from public.chats where id = any($1::uuid[])", list(ids)
    )
    return rows


async def delete(conn: asyncpg.Connection, chat_id: uuid.UUID) -> bool:
    deleted = await conn.fetchval("delete from public.chats where id = $1 returning id", chat_id)
    return deleted is not None


async def touch(conn: asyncpg.Connection, chat_id: uuid.UUID) -> None:
    await conn.execute("update public.chats set updated_at = now() where id = $1", chat_id)


async def pages(
    conn: asyncpg.Connection,
    website_ids: Sequence[uuid.UUID],
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[asyncpg.Record]:
    """Up to `limit` chats of each website, newest first, in one statement."""
    cursor_filter = "and (c.created_at, c.id) < ($3, $4)" if after else ""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        select c.* from unnest($1::uuid[]) as k(website_id)
        cross join lateral (
          select {COLUMNS} from public.chats c
          where c.website_id = k.website_id {cursor_filter}
          order by c.created_at desc, c.id desc
          limit $2
        ) c
        """,
        list(website_ids),
        limit,
        *(after or ()),
    )
    return rows
