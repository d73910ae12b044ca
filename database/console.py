"""One-time sign-in codes of the console (012_console_codes.sql): stored by their hash,
redeemed at most once. Runs as the service (or the database owner, from the CLI)."""

from __future__ import annotations

import uuid

import asyncpg


async def insert_code(
    conn: asyncpg.Connection, code_hash: bytes, user_id: uuid.UUID, ttl_seconds: float
) -> None:
    """Stores a new code; codes past their expiry go at the same time."""
    await conn.execute("delete from public.console_codes where expires_at < now()")
    await conn.execute(
        """
        insert into public.console_codes (code_hash, user_id, expires_at)
        values ($1, $2, now() + make_interval(secs => $3))
        """,
        code_hash,
        user_id,
        float(ttl_seconds),
    )


async def redeem_code(conn: asyncpg.Connection, code_hash: bytes) -> uuid.UUID | None:
    """The owner a live code signs in, deleting it in the same statement, so that two
    redemptions of one code cannot both succeed; None for an unknown, used or expired one."""
    user_id: uuid.UUID | None = await conn.fetchval(
        """
        delete from public.console_codes where code_hash = $1
        returning case when expires_at > now() then user_id end
        """,
        code_hash,
    )
    return user_id
