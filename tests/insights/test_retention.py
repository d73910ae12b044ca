"""The retention job: a website's chats are deleted, with their messages, ratings and
knowledge-gap questions, once their last activity is older than its `retentionDays`;
other websites keep theirs, the job runs once per period across instances, in bounded
batches, and activity counts stay.

The job's tests have a database of their own (no other worker purges it meanwhile), and
backdate rows as a superuser."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import numpy as np
import pytest

from askbase.app.insights.privacy import RETENTION_TASK, RetentionJob, purge_expired
from askbase.app.runtime.services import apply_migrations
from askbase.database import gaps, privacy
from askbase.database.pool import Database, create_pool
from askbase.database.privacy import Deleted
from tests.conftest import Api, Tenant

NOW = datetime.now(UTC)


@pytest.fixture
async def db(fresh_dsn: str) -> AsyncIterator[Database]:
    await apply_migrations(fresh_dsn)
    pool = await create_pool(fresh_dsn, min_size=1, max_size=4)
    try:
        yield Database(pool)
    finally:
        await pool.close()


async def website(conn: asyncpg.Connection, retention_days: int | None) -> uuid.UUID:
    settings = {} if retention_days is None else {"retentionDays": retention_days}
    website_id: uuid.UUID = await conn.fetchval(
        "insert into websites (owner_id, domain, name, settings) values ($1, $2, 'site', $3)"
        " returning id",
        uuid.uuid4(),
        f"{uuid.uuid4().hex[:10]}.example",
        settings,
    )
    return website_id


async def chat(
    conn: asyncpg.Connection,
    website_id: uuid.UUID,
    days_ago: float,
    *,
    last_message_days_ago: float | None = None,
    rated: bool = False,
) -> uuid.UUID:
    """A visitor's chat last active `days_ago`, with a question and its answer (rated
    down when `rated`), written as it would have been then."""
    at = NOW - timedelta(days=days_ago)
    chat_id: uuid.UUID = await conn.fetchval(
        "insert into chats (website_id, visitor_id, created_at, updated_at)"
        " values ($1, $2, $3, $3) returning id",
        website_id,
        uuid.uuid4(),
        at,
    )
    said = NOW - timedelta(days=last_message_days_ago if last_message_days_ago else days_ago)
    await conn.execute(
        "insert into messages (chat_id, website_id, role, content, created_at)"
        " values ($1, $2, 'user', 'Do you ship to Canada?', $3)",
        chat_id,
        website_id,
        said,
    )
    answer = await conn.fetchval(
        "insert into messages (chat_id, website_id, role, content, created_at)"
        " values ($1, $2, 'assistant', 'I don''t know.', $3) returning id",
        chat_id,
        website_id,
        said,
    )
    if rated:
        await conn.execute(
            "insert into message_feedback (message_id, chat_id, website_id, rating, comment)"
            " values ($1, $2, $3, 'down', 'my order number is 1234')",
            answer,
            chat_id,
            website_id,
        )
    return chat_id


async def surviving(conn: asyncpg.Connection, chat_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = await conn.fetch("select id from chats where id = any($1::uuid[])", chat_ids)
    return {r["id"] for r in rows}


async def test_the_retention_job_deletes_exactly_the_chats_past_each_websites_period(
    db: Database,
) -> None:
    async with db.service() as conn:
        month = await website(conn, 30)
        quarter = await website(conn, 90)
        forever = await website(conn, None)
        old = [
            await chat(conn, month, 40, rated=True),
            await chat(conn, month, 30.5),
            await chat(conn, quarter, 100),
        ]
        kept = [
            await chat(conn, month, 29),
            # Started long ago, but a message was written two days ago: still active.
            await chat(conn, month, 40, last_message_days_ago=2),
            await chat(conn, quarter, 40, rated=True),
            await chat(conn, forever, 1000, rated=True),
        ]
        activity_before = await conn.fetch("select * from activity_hourly order by website_id, at")

    deleted = await purge_expired(db)

    assert deleted == Deleted(chats=3, messages=6, feedback=1)
    async with db.service() as conn:
        assert await surviving(conn, old + kept) == set(kept)
        orphans = await conn.fetchval(
            "select (select count(*) from messages where chat_id = any($1::uuid[]))"
            " + (select count(*) from message_feedback where chat_id = any($1::uuid[]))",
            old,
        )
        assert orphans == 0
        assert await conn.fetchval("select count(*) from messages") == 2 * len(kept)
        assert await conn.fetchval("select count(*) from message_feedback") == 2
        # Counts per hour hold no text and no visitor id: they stay as they were.
        activity_after = await conn.fetch("select * from activity_hourly order by website_id, at")
        assert activity_after == activity_before
    assert await purge_expired(db) == Deleted()  # nothing is left to delete


async def test_a_run_deletes_in_bounded_batches_and_the_next_run_goes_on(db: Database) -> None:
    async with db.service() as conn:
        one = await website(conn, 7)
        two = await website(conn, 7)
        old = [await chat(conn, site, 10 + i) for site in (one, two) for i in range(3)]

    first = await purge_expired(db, batch=2, max_batches=2)
    # One batch per website in turn: two chats of each, the oldest first.
    assert first.chats == 4
    async with db.service() as conn:
        left = await surviving(conn, old)
    assert left == {old[0], old[3]}  # each website's newest expired chat

    second = await purge_expired(db, batch=2, max_batches=2)
    assert second.chats == 2
    async with db.service() as conn:
        assert await surviving(conn, old) == set()


def unit(*weights: float, dims: int = 384) -> np.ndarray:
    vector = np.zeros(dims, dtype=np.float32)
    vector[: len(weights)] = weights
    normalized: np.ndarray = vector / np.linalg.norm(vector)
    return normalized


async def gap_question(
    conn: asyncpg.Connection, website_id: uuid.UUID, chat_id: uuid.UUID, text: str, vector: Any
) -> uuid.UUID:
    """Record the chat's answer as a badly answered `text` (as app/chat/answer.py does)."""
    answer = await conn.fetchrow(
        "select id, created_at from messages where chat_id = $1 and role = 'assistant'", chat_id
    )
    gap_id: uuid.UUID = await gaps.record(
        conn,
        website_id=website_id,
        message_id=answer["id"],
        question=text,
        embedding=vector,
        reasons=["no_sources"],
        asked_at=answer["created_at"],
        threshold=0.6,
    )
    return gap_id


async def test_purged_questions_leave_knowledge_gaps(db: Database) -> None:
    """A gap's wording, size and centroid come from the questions left; a gap with none
    left goes."""
    async with db.service() as conn:
        site = await website(conn, 30)
        old, other_old = await chat(conn, site, 60), await chat(conn, site, 60)
        new_a, new_b = await chat(conn, site, 1), await chat(conn, site, 1)
        shipping = await gap_question(conn, site, old, "Do you ship to Canada?", unit(1))
        assert await gap_question(conn, site, new_a, "Delivery to Canada?", unit(1, 0.3)) == (
            shipping
        )
        assert await gap_question(conn, site, new_b, "Ship to Canada?", unit(1, -0.3)) == shipping
        hours = await gap_question(conn, site, other_old, "Opening hours?", unit(0, 0, 1))
        assert hours != shipping
        before = await conn.fetchrow(
            "select question, size from knowledge_gaps where id = $1", shipping
        )
        assert (before["question"], before["size"]) == ("Do you ship to Canada?", 3)

    assert (await purge_expired(db)).chats == 2

    async with db.service() as conn:
        rows = await conn.fetch(
            "select id, question, size, centroid::real[] as centroid from knowledge_gaps"
            " where website_id = $1",
            site,
        )
        members = await conn.fetch(
            "select question from knowledge_gap_questions where website_id = $1 order by 1", site
        )
    assert [r["id"] for r in rows] == [shipping]  # the opening-hours gap had no one left
    (gap,) = rows
    assert gap["size"] == 2
    assert gap["question"] in {"Delivery to Canada?", "Ship to Canada?"}
    assert np.allclose(gap["centroid"], unit(1), atol=1e-5)  # the mean of the two left
    assert [m["question"] for m in members] == ["Delivery to Canada?", "Ship to Canada?"]


async def test_one_run_per_period_whichever_instance_asks(db: Database) -> None:
    async with db.service() as conn:
        site = await website(conn, 1)
        old = await chat(conn, site, 3)
    # Two instances' jobs: the first claims the period's run, the second finds it taken.
    await RetentionJob()(db)
    async with db.service() as conn:
        assert await surviving(conn, [old]) == set()
        again = await chat(conn, site, 3)
    await RetentionJob()(db)
    async with db.service() as conn:
        assert await surviving(conn, [again]) == {again}
        # Once the period is over, the next ask runs it again.
        await conn.execute(
            "update scheduled_runs set last_run_at = now() - interval '11 minutes' where task = $1",
            RETENTION_TASK,
        )
    await RetentionJob()(db)
    async with db.service() as conn:
        assert await surviving(conn, [again]) == set()
        claims = [await privacy.claim_run(conn, "probe", 600) for _ in range(3)]
    assert claims == [True, False, False]


async def test_every_worker_runs_the_retention_job(api: Api) -> None:
    assert isinstance(api.state.ingestion.housekeeping, RetentionJob)


# --- the setting -------------------------------------------------------------------------

UPDATE = """
mutation($id: ID!, $input: UpdateWebsiteInput!) {
  updateWebsite(id: $id, input: $input) { settings { retentionDays } }
}"""


async def test_retention_days_is_set_reset_and_checked(api: Api, tenant: Tenant) -> None:
    async def update(value: int | None) -> object:
        data = await api.data(
            UPDATE, {"id": tenant.website_id, "input": {"retentionDays": value}}, token=tenant.owner
        )
        return data["updateWebsite"]["settings"]["retentionDays"]

    async def refused(value: int) -> None:
        error = await api.error(
            UPDATE, {"id": tenant.website_id, "input": {"retentionDays": value}}, token=tenant.owner
        )
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["field"] == "retentionDays"

    assert await update(30) == 30
    assert await update(3650) == 3650
    for value in (0, -1, 3651):
        await refused(value)
    assert await update(None) is None  # null: keep chats until they are deleted
