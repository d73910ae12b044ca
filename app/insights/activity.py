"""A website's activity over time, for its owner: chats, questions, answers, ratings, tokens."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg

from askbase.app.auth.context import Context, visible_website
from askbase.app.core.errors import BadUserInput
from askbase.database import activity

MAX_RANGE = timedelta(days=400)
MAX_BUCKETS = 10_000
BUCKETS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


def check_range(since: datetime, until: datetime, unit: str) -> None:
    if since.tzinfo is None or until.tzinfo is None:
        raise BadUserInput("`from` and `to` need a time zone offset.", field="from")
    if since >= until:
        raise BadUserInput("`from` must be before `to`.", field="from")
    if until - since > MAX_RANGE:
        raise BadUserInput("The range may span at most 400 days.", field="to")
    if (until - since) / BUCKETS[unit] > MAX_BUCKETS:
        raise BadUserInput(f"At most {MAX_BUCKETS} buckets; use a larger bucket.", field="bucket")


async def series(
    ctx: Context, website_id: uuid.UUID, since: datetime, until: datetime, unit: str
) -> list[asyncpg.Record]:
    await ctx.owner()
    check_range(since, until, unit)
    async with ctx.db() as conn:
        website = await visible_website(conn, website_id)
        zone = (website["settings"] or {}).get("timeZone") or "UTC"
        return await activity.series(
            conn, website_id, since=since, until=until, unit=unit, time_zone=zone
        )
