"""Per-client and per-website rate limits: leaky buckets, in this process (aiolimiter)
or in PostgreSQL, shared by every instance (RATE_LIMIT_BACKEND=postgres)."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Protocol

import asyncpg
from aiolimiter import AsyncLimiter

from askbase.app.auth.clients import client_digest
from askbase.app.core.errors import RateLimited
from askbase.database import ratelimits


def limited(per_minute: float) -> RateLimited:
    return RateLimited(retry_after=max(1, math.ceil(60 / per_minute)))


class Limiter(Protocol):
    async def hit(self, key: str) -> None: ...


class KeyedLimiter:
    """One leaky bucket per key, with the least recently used keys forgotten past a cap."""

    def __init__(self, per_minute: float, max_keys: int = 50_000) -> None:
        self.per_minute = per_minute
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, AsyncLimiter] = OrderedDict()

    def _bucket(self, key: str) -> AsyncLimiter:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = AsyncLimiter(self.per_minute, 60)
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket

    async def hit(self, key: str) -> None:
        """Take one unit for `key`, or raise RateLimited without waiting.

        `has_capacity` and `acquire` run without a suspension point between them when
        capacity exists, so the check and the take are atomic on the event loop.
        """
        bucket = self._bucket(key)
        if not bucket.has_capacity():
            raise limited(self.per_minute)
        await bucket.acquire()


class PostgresLimiter:
    """The same leaky buckets in a table: one statement (one round trip) per hit, atomic
    across instances. Drained buckets are deleted every `sweep_every` hits."""

    def __init__(
        self, pool: asyncpg.Pool, scope: str, per_minute: float, sweep_every: int = 1000
    ) -> None:
        self.pool = pool
        self.scope = scope
        self.per_minute = per_minute
        self.sweep_every = sweep_every
        self._hits = 0

    async def hit(self, key: str) -> None:
        self._hits += 1
        if self._hits % self.sweep_every == 0:
            await ratelimits.forget_drained(self.pool)
        if not await ratelimits.hit(self.pool, f"{self.scope}:{key}", self.per_minute):
            raise limited(self.per_minute)


class RateLimits:
    def __init__(
        self,
        ip_per_minute: float,
        website_per_minute: float,
        pool: asyncpg.Pool | None = None,
        *,
        client_secret: bytes,
    ) -> None:
        """In-process buckets, or shared ones in PostgreSQL when a pool is given. Clients
        are counted by a keyed hash of their address (`client_secret`), never the address
        itself, so the rate_limits table holds no IP address."""
        self.client_secret = client_secret
        self.by_ip: Limiter
        self.by_website: Limiter
        if pool is None:
            self.by_ip = KeyedLimiter(ip_per_minute)
            self.by_website = KeyedLimiter(website_per_minute)
        else:
            self.by_ip = PostgresLimiter(pool, "ip", ip_per_minute)
            self.by_website = PostgresLimiter(pool, "website", website_per_minute)

    async def check(self, client_ip: str, website_id: str) -> None:
        await self.by_ip.hit(client_digest(self.client_secret, client_ip))
        await self.by_website.hit(website_id)
