"""Leaky buckets in one table, taken atomically by one statement."""

from __future__ import annotations

import asyncpg

from askbase.database.pool import ACQUIRE_TIMEOUT_SECONDS

# The bucket drains at `capacity` units a minute. The row lock of ON CONFLICT makes the
# check and the take one step; a full bucket is left as it is and nothing is returned.
_HIT = """
insert into public.rate_limits as r (key, level, updated_at)
values ($1, 1, clock_timestamp())
on conflict (key) do update
  set level = 1 + greatest(
        0, r.level - extract(epoch from clock_timestamp() - r.updated_at) * $2 / 60),
      updated_at = clock_timestamp()
  where 1 + greatest(
        0, r.level - extract(epoch from clock_timestamp() - r.updated_at) * $2 / 60) <= $2
returning level
"""


async def hit(pool: asyncpg.Pool, key: str, capacity: float) -> bool:
    """Take one unit from `key`'s bucket; False when it is full."""
    async with pool.acquire(timeout=ACQUIRE_TIMEOUT_SECONDS) as conn:
        return await conn.fetchval(_HIT, key, capacity) is not None


async def forget_drained(pool: asyncpg.Pool) -> None:
    """Buckets untouched for a minute are empty again: their rows can go."""
    async with pool.acquire(timeout=ACQUIRE_TIMEOUT_SECONDS) as conn:
        await conn.execute(
            "delete from public.rate_limits "
            "where updated_at < clock_timestamp() - interval '1 minute'"
        )
