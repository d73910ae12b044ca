"""Hand-off queries: a chat's hand-off state, its activity since a point in time, the
website's webhook and its delivery log."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from askbase.database import chats, messages

# A row written this long before it was committed is still found by a watcher that
# looked in between (its transaction had not committed yet): watchers look back this far.
COMMIT_LAG_SECONDS = 60


async def request(
    conn: asyncpg.Connection, chat_id: uuid.UUID, note: str | None
) -> tuple[asyncpg.Record | None, bool]:
    """Ask for a person: NONE becomes REQUESTED (True: newly requested); a pending request
    keeps its time and takes the new note, if any; a chat taken over stays so."""
    row = await conn.fetchrow(
        f"""
        with before as (select handoff from public.chats where id = $1 for update)
        update public.chats c set
          handoff = case when b.handoff = 'none' then 'requested' else b.handoff end,
          handoff_requested_at = case when b.handoff = 'none' then now()
                                      else c.handoff_requested_at end,
          handoff_note = case when b.handoff = 'taken_over' then c.handoff_note
                              when b.handoff = 'none' then $2
                              else coalesce($2, c.handoff_note) end
        from before b
        where c.id = $1
        returning {", ".join("c." + n.strip() for n in chats.COLUMNS.split(","))},
                  b.handoff = 'none' as newly
        """,
        chat_id,
        note,
    )
    if row is None:
        return None, False
    return row, bool(row["newly"])


async def take_over(conn: asyncpg.Connection, chat_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        update public.chats set handoff = 'taken_over',
          taken_over_at = coalesce(taken_over_at, now())
        where id = $1 returning {chats.COLUMNS}
        """,
        chat_id,
    )
    return row


async def release(conn: asyncpg.Connection, chat_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        update public.chats set handoff = 'none', handoff_note = null,
          handoff_requested_at = null, taken_over_at = null
        where id = $1 returning {chats.COLUMNS}
        """,
        chat_id,
    )
    return row


async def look_back(conn: asyncpg.Connection, chat_id: uuid.UUID | None = None) -> datetime:
    """Where a watcher starts looking for new rows: COMMIT_LAG_SECONDS ago, or earlier
    when a message of the chat still streams (it is announced once it is finished)."""
    at: datetime = await conn.fetchval(
        """
        select least(now() - make_interval(secs => $2),
          (select min(created_at) from public.messages
           where $1::uuid is not null and chat_id = $1 and status = 'streaming'))
        """,
        chat_id,
        COMMIT_LAG_SECONDS,
    )
    return at


async def finished_messages(
    conn: asyncpg.Connection, chat_id: uuid.UUID, since: datetime
) -> list[asyncpg.Record]:
    """The chat's finished messages (not system ones) stored since `since`, oldest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        select {messages.COLUMNS} from public.messages
        where chat_id = $1 and created_at >= $2 and status <> 'streaming' and role <> 'system'
        order by created_at, id
        """,
        chat_id,
        since,
    )
    return rows


async def website_activity(
    conn: asyncpg.Connection, website_id: uuid.UUID, since: datetime, limit: int
) -> list[asyncpg.Record]:
    """The website's chats started or asking for a person since `since`: the latest
    `limit` of them."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        select {chats.COLUMNS} from public.chats
        where website_id = $1 and (created_at >= $2 or handoff_requested_at >= $2)
        order by greatest(created_at, handoff_requested_at) desc, id desc
        limit $3
        """,
        website_id,
        since,
        limit,
    )
    return rows


async def now(conn: asyncpg.Connection) -> datetime:
    at: datetime = await conn.fetchval("select now()")
    return at


# Webhook ------------------------------------------------------------------------------

WEBHOOK_COLUMNS = "website_id, url, secret, created_at, updated_at"


async def webhook(conn: asyncpg.Connection, website_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"select {WEBHOOK_COLUMNS} from public.handoff_webhooks where website_id = $1",
        website_id,
    )
    return row


async def set_webhook(
    conn: asyncpg.Connection, website_id: uuid.UUID, url: str, new_secret: str, rotate: bool
) -> asyncpg.Record:
    """Set the URL; the secret is `new_secret` for a new webhook or when `rotate`."""
    row = await conn.fetchrow(
        f"""
        insert into public.handoff_webhooks (website_id, url, secret) values ($1, $2, $3)
        on conflict (website_id) do update set url = excluded.url, updated_at = now(),
          secret = case when $4 then excluded.secret else handoff_webhooks.secret end
        returning {WEBHOOK_COLUMNS}
        """,
        website_id,
        url,
        new_secret,
        rotate,
    )
    assert row is not None
    return row


async def delete_webhook(conn: asyncpg.Connection, website_id: uuid.UUID) -> None:
    await conn.execute("delete from public.handoff_webhooks where website_id = $1", website_id)


DELIVERY_COLUMNS = (
    "id, website_id, chat_id, event_id, attempt, url, status_code, ok, error, created_at"
)


async def record_delivery(
    conn: asyncpg.Connection,
    *,
    website_id: uuid.UUID,
    chat_id: uuid.UUID,
    event_id: uuid.UUID,
    attempt: int,
    url: str,
    status_code: int | None,
    ok: bool,
    error: str | None,
) -> None:
    await conn.execute(
        """
        insert into public.handoff_deliveries
          (website_id, chat_id, event_id, attempt, url, status_code, ok, error)
        select $1, c.id, $3, $4, $5, $6, $7, $8
        from (select $2::uuid as id) k left join public.chats c on c.id = k.id
        """,
        website_id,
        chat_id,
        event_id,
        attempt,
        url,
        status_code,
        ok,
        error,
    )


async def deliveries(
    conn: asyncpg.Connection, website_id: uuid.UUID, limit: int
) -> list[asyncpg.Record]:
    """The website's delivery attempts, newest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        select {DELIVERY_COLUMNS} from public.handoff_deliveries where website_id = $1
        order by created_at desc, id desc limit $2
        """,
        website_id,
        limit,
    )
    return rows
