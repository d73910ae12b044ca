"""A website's activity per hour or day, summed from the hourly counts that triggers keep
(migration 008): at most 24 rows a day, whatever the traffic."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg


async def series(
    conn: asyncpg.Connection,
    website_id: uuid.UUID,
    *,
    since: datetime,
    until: datetime,
    unit: str,
    time_zone: str = "UTC",
) -> list[asyncpg.Record]:
    """One row per `unit` ('hour' or 'day') bucket that starts before `until`, counting
    what happened in the hours of [since, until) (whole hours); buckets are aligned in
    `time_zone`."""
    assert unit in ("hour", "day")
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        with b as (
          select generate_series(
            date_trunc($4, $2::timestamptz, $5), $3::timestamptz - interval '1 microsecond',
            ('1 ' || $4)::interval) as at
        ), a as (
          select date_trunc($4, h.at, $5) as at, sum(h.chats) as chats,
            sum(h.questions) as questions, sum(h.answered) as answered,
            sum(h.unanswered) as unanswered, sum(h.rated_up) as rated_up,
            sum(h.rated_down) as rated_down, sum(h.total_tokens) as total_tokens
          from public.activity_hourly h
          where h.website_id = $1 and h.at >= date_trunc('hour', $2::timestamptz, 'UTC')
            and h.at < $3
          group by 1
        )
        select b.at, coalesce(a.chats, 0)::int as chats,
          coalesce(a.questions, 0)::int as questions, coalesce(a.answered, 0)::int as answered,
          coalesce(a.unanswered, 0)::int as unanswered, coalesce(a.rated_up, 0)::int as rated_up,
          coalesce(a.rated_down, 0)::int as rated_down,
          coalesce(a.total_tokens, 0)::bigint as total_tokens
        from b left join a using (at)
        order by b.at
        """,
        website_id,
        since,
        until,
        unit,
        time_zone,
    )
    return rows
