"""Ratings of assistant messages: one per message, replaced when rated again."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

COLUMNS = "message_id, chat_id, website_id, rating, comment, created_at"


async def upsert(
    conn: asyncpg.Connection,
    *,
    message_id: uuid.UUID,
    chat_id: uuid.UUID,
    website_id: uuid.UUID,
    rating: str,
    comment: str | None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""
        insert into public.message_feedback (message_id, chat_id, website_id, rating, comment)
        values ($1, $2, $3, $4, $5)
        on conflict (message_id) do update
          set rating = excluded.rating, comment = excluded.comment, created_at = now()
        returning {COLUMNS}
        """,
        message_id,
        chat_id,
        website_id,
        rating,
        comment,
    )
    assert row is not None
    return row


async def by_message_ids(
    conn: asyncpg.Connection, ids: Sequence[uuid.UUID]
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"select {COLUMNS} from public.message_feedback where message_id = any($1::uuid[])",
        list(ids),
    )
    return rows
