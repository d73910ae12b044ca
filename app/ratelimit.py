"""Per-client and per-website rate limits (leaky buckets from aiolimiter)."""

from __future__ import annotations

import math
from collections import OrderedDict

from aiolimiter import AsyncLimiter

from app.errors import RateLimited


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
            raise RateLimited(retry_after=max(1, math.ceil(60 / self.per_minute)))
        await bucket.acquire()


class RateLimits:
    def __init__(self, ip_per_minute: float, website_per_minute: float) -> None:
        self.by_ip = KeyedLimiter(ip_per_minute)
        self.by_website = KeyedLimiter(website_per_minute)

    async def check(self, client_ip: str, website_id: str) -> None:
        await self.by_ip.hit(client_ip)
        await self.by_website.hit(website_id)
