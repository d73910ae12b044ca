"""Message queries. A chat's messages are listed oldest first, paged by (created_at, id)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

COLUMNS = (
    "id, chat_id, website_id, role, content, status, sources, usage, created_at, "
    "confidence, declined"
)


async def insert(
    conn: asyncpg.Connection,
    *,
    chat_id: uuid.UUID,
    website_id: uuid.UUID,
    role: str,
    content: str,
    status: str = "complete",
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"insert into public.messages (chat_id, website_id, role, content, status) "
        f"values ($1, $2, $3, $4, $5) returning {COLUMNS}",
        chat_id,
        website_id,
        role,
        content,
        status,
    )
    assert row is not None
    return row


async def pages(
    conn: asyncpg.Connection,
    chat_ids: Sequence[uuid.UUID],
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[asyncpg.Record]:
    """Up to `limit` messages of each chat in one statement (one lateral scan per chat)."""
    cursor_filter = "and (m.created_at, m.id) > ($3, $4)" if after else ""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        select m.* from unnest($1::uuid[]) as k(chat_id)
        cross join lateral (
          select {COLUMNS} from public.messages m
          where m.chat_id = k.chat_id {cursor_filter}
          order by m.created_at, m.id
          limit $2
        ) m
        """,
        list(chat_ids),
        limit,
        *(after or ()),
    )
    return rows


async def recent(conn: asyncpg.Connection, chat_id: uuid.UUID, limit: int) -> list[asyncpg.Record]:
    """The chat's last `limit` messages, oldest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        select * from (
          select {COLUMNS} from public.messages where chat_id = $1
          order by created_at desc, id desc limit $2
        ) m order by created_at, id
        """,
        chat_id,
        limit,
    )
    return rows


async def finalize(
    conn: asyncpg.Connection,
    message_id: uuid.UUID,
    *,
    content: str,
    status: str,
    sources: list[dict[str, object]],
    usage: dict[str, object] | None,
    confidence: float | None = None,
    declined: bool = False,
) -> asyncpg.Record | None:
    """Write an assistant message's final state, once: a finished message stays as it is."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        update public.messages set content = $2, status = $3, sources = $4, usage = $5,
          confidence = $6, declined = $7
        where id = $1 and status = 'streaming'
        returning {COLUMNS}
        """,
        message_id,
        content,
        status,
        sources,
        usage,
        confidence,
        declined,
    )
    return row


async def by_id(conn: asyncpg.Connection, message_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"select {COLUMNS} from public.messages where id = $1", message_id
    )
    return row


async def question_of(conn: asyncpg.Connection, answer: asyncpg.Record) -> str | None:
    """The user message that an assistant message answers: the chat's last one before it."""
    text: str | None = await conn.fetchval(
        """
        select content from public.messages
        where chat_id = $1 and role = 'user' and (created_at, id) < ($2, $3)
        order by created_at desc, id desc limit 1
        """,
        answer["chat_id"],
        answer["created_at"],
        answer["id"],
    )
    return text


async def usage_by_model(
    conn: asyncpg.Connection,
    website_id: uuid.UUID,
    since: datetime | None,
    until: datetime | None,
) -> list[asyncpg.Record]:
    """Answers and tokens per model for a website, in [since, until)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        select usage->>'model' as model, count(*) as answers,
               coalesce(sum((usage->>'promptTokens')::bigint), 0) as prompt_tokens,
               coalesce(sum((usage->>'completionTokens')::bigint), 0) as completion_tokens
        from public.messages
        where website_id = $1 and role = 'assistant' and usage is not null
          and ($2::timestamptz is null or created_at >= $2)
          and ($3::timestamptz is null or created_at < $3)
        group by 1 order by 1
        """,
        website_id,
        since,
        until,
    )
    return rows
