"""Deleting conversations: chats past their website's retention period, and one visitor's.

A chat goes with its messages, their ratings and their knowledge-gap questions; the gaps
that lose questions are tidied (database/gaps.py `forget`). Activity counts stay: they
hold no text and no visitor id (008_learning.sql).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from askbase.database import gaps


@dataclass(frozen=True, slots=True)
class Deleted:
    chats: int = 0
    messages: int = 0
    feedback: int = 0

    def __add__(self, other: Deleted) -> Deleted:
        return Deleted(
            self.chats + other.chats,
            self.messages + other.messages,
            self.feedback + other.feedback,
        )


async def claim_run(conn: asyncpg.Connection, task: str, every_seconds: float) -> bool:
    """Whether this caller runs `task` now: at most one claim per `every_seconds`, whichever
    instance asks (the row's update is atomic). Runs as the service."""
    claimed = await conn.fetchval(
        """
        insert into public.scheduled_runs as r (task, last_run_at) values ($1, now())
        on conflict (task) do update set last_run_at = excluded.last_run_at
          where r.last_run_at <= now() - make_interval(secs => $2)
        returning task
        """,
        task,
        float(every_seconds),
    )
    return claimed is not None


# A website's retention period in days, when it has one (app/tenancy/sites.py).
_DAYS = "(w.settings ->> 'retentionDays')::numeric::integer"


async def websites_due(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """The websites with a retention period and at least one chat past it: id, days.
    Runs as the service."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        select w.id, {_DAYS} as days from public.websites w
        where jsonb_typeof(w.settings -> 'retentionDays') = 'number'
          and exists (
            select 1 from public.chats c
            where c.website_id = w.id and c.updated_at < now() - make_interval(days => {_DAYS})
          )
        order by w.id
        """
    )
    return rows


async def expired_chats(
    conn: asyncpg.Connection, website_id: uuid.UUID, days: int, limit: int
) -> list[uuid.UUID]:
    """Up to `limit` of the website's chats whose last activity (the chat's `updated_at`,
    its latest message) is more than `days` days old, locked; oldest first. Chats that
    another transaction holds are skipped (the next run takes them)."""
    rows = await conn.fetch(
        """
        select c.id from public.chats c
        where c.website_id = $1 and c.updated_at < now() - make_interval(days => $2)
          and not exists (
            select 1 from public.messages m
            where m.chat_id = c.id and m.created_at >= now() - make_interval(days => $2)
          )
        order by c.updated_at, c.id
        limit $3
        for update of c skip locked
        """,
        website_id,
        days,
        limit,
    )
    return [r["id"] for r in rows]


async def visitor_chats(
    conn: asyncpg.Connection, website_id: uuid.UUID, visitor_id: uuid.UUID
) -> list[uuid.UUID]:
    """The visitor's chats on the website, locked (row-level security applies)."""
    rows = await conn.fetch(
        "select id from public.chats where website_id = $1 and visitor_id = $2 for update",
        website_id,
        visitor_id,
    )
    return [r["id"] for r in rows]


async def _count_deleted(conn: asyncpg.Connection, sql: str, chat_ids: list[uuid.UUID]) -> int:
    count: int = await conn.fetchval(
        f"with gone as ({sql} returning 1) select count(*) from gone", chat_ids
    )
    return count


async def delete_chats(conn: asyncpg.Connection, chat_ids: Sequence[uuid.UUID]) -> Deleted:
    """Delete these chats, their messages and ratings, and tidy the knowledge gaps that
    lose questions. Call it under the website's gap lock (gaps.lock_website), in the
    transaction that found the chats."""
    ids = list(chat_ids)
    if not ids:
        return Deleted()
    touched = await conn.fetch(
        """
        select distinct q.gap_id from public.knowledge_gap_questions q
        join public.messages m on m.id = q.message_id
        where m.chat_id = any($1::uuid[])
        """,
        ids,
    )
    feedback = await _count_deleted(
        conn, "delete from public.message_feedback where chat_id = any($1::uuid[])", ids
    )
    # Their knowledge-gap questions go with the messages (on delete cascade).
    messages = await _count_deleted(
        conn, "delete from public.messages where chat_id = any($1::uuid[])", ids
    )
    chats = await _count_deleted(conn, "delete from public.chats where id = any($1::uuid[])", ids)
    await gaps.forget(conn, [r["gap_id"] for r in touched])
    return Deleted(chats=chats, messages=messages, feedback=feedback)
