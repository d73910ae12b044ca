"""The ingestion queue: exclusive claims, leases, bounded retries, events across instances.

Each test has a database of its own, so that no other worker takes its jobs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from askbase.app.core.settings import load_settings
from askbase.app.knowledge.embeddings import LocalEmbedder, OpenAIEmbedder, WordPieceCounter
from askbase.app.knowledge.ingest.worker import Ingestion, Worker, _LostLease, ingest_document
from askbase.app.runtime.services import apply_migrations
from askbase.database import documents, jobs
from askbase.database.pool import Database, create_pool
from tests.conftest import CREATE_WEBSITE, JWT_SECRET, free_socket, owner_token, running_api

TEXT = "# Returns\n\nItems can be returned within 30 days.\n\n# Shipping\n\nWe ship in 2 days."


@pytest.fixture
async def db(fresh_dsn: str) -> AsyncIterator[Database]:
    await apply_migrations(fresh_dsn)
    pool = await create_pool(fresh_dsn, min_size=1, max_size=8)
    try:
        yield Database(pool)
    finally:
        await pool.close()


def ingestion(db: Database, tmp_path: Path, embedder: Any = None, **settings: Any) -> Ingestion:
    return Ingestion(
        db=db,
        embedder=embedder or LocalEmbedder(),
        counter=WordPieceCounter(),
        settings=load_settings(
            env_file=None, SUPABASE_JWT_SECRET=JWT_SECRET, ASKBASE_DATA_DIR=tmp_path, **settings
        ),
    )


async def queue_documents(db: Database, count: int, text: str = TEXT) -> list[uuid.UUID]:
    """Documents with their files and jobs, as uploadDocument writes them."""
    ids = []
    async with db.session("service_role", {"role": "service_role"}) as conn:
        website = await conn.fetchval(
            "insert into websites (owner_id, domain, name) values ($1, 'jobs.example', 'jobs') "
            "returning id",
            uuid.uuid4(),
        )
        for i in range(count):
            data = f"{text}\n\nDocument {i}.".encode()
            row = await documents.insert(
                conn,
                website_id=website,
                filename=f"doc{i}.md",
                content_type="text/markdown",
                data=data,
                sha256=hashlib.sha256(data).hexdigest(),
            )
            await jobs.enqueue(conn, row["id"], website)
            ids.append(row["id"])
    return ids


async def test_concurrent_workers_never_claim_the_same_job(db: Database) -> None:
    await queue_documents(db, 60)

    async def claimer(name: str) -> list[uuid.UUID]:
        claimed = []
        while True:
            async with db.session("service_role", {"role": "service_role"}) as conn:
                job = await jobs.claim(conn, name, 300)
            if job is None:
                return claimed
            claimed.append(job["id"])
            await asyncio.sleep(0)

    results = await asyncio.gather(*(claimer(f"w{i}") for i in range(6)))
    every = [job for claimed in results for job in claimed]
    assert len(every) == 60 and len(set(every)) == 60
    assert sum(1 for claimed in results if claimed) > 1  # they really worked side by side


async def test_a_crashed_workers_job_is_taken_over_after_its_lease(
    db: Database, tmp_path: Path
) -> None:
    [doc] = await queue_documents(db, 1)
    work = ingestion(db, tmp_path, INGEST_LEASE_SECONDS=1)
    # Worker "a" claims the job and dies without a word.
    async with db.session("service_role", {"role": "service_role"}) as conn:
        abandoned = await jobs.claim(conn, "a", 1)
    assert abandoned is not None
    survivor = Worker(work, events=None, name="b")
    assert await survivor.run_once() is False  # the lease still runs
    await asyncio.sleep(1.2)
    assert await survivor.run_once() is True
    async with db.session("service_role", {"role": "service_role"}) as conn:
        row = await conn.fetchrow("select status, chunk_count from documents where id = $1", doc)
        job = await conn.fetchrow("select status, attempts from jobs where document_id = $1", doc)
        stored = await conn.fetchval(
            "select count(*) from document_chunks where document_id = $1", doc
        )
    assert row["status"] == "ready" and row["chunk_count"] == stored == 2
    assert job["status"] == "done" and job["attempts"] == 2
    # The dead worker wakes up late: its result is dropped, nothing is doubled.
    with pytest.raises(_LostLease):
        await ingest_document(work, doc, "a", abandoned["id"])
    async with db.session("service_role", {"role": "service_role"}) as conn:
        assert (
            await conn.fetchval("select count(*) from document_chunks where document_id = $1", doc)
            == 2
        )


async def test_a_job_whose_worker_dies_on_every_attempt_fails_at_the_cap(
    db: Database, tmp_path: Path
) -> None:
    """A poison job (its worker dies each time) is not re-claimed forever: once its last
    allowed attempt's lease runs out, the job and its document fail with a reason."""
    [doc] = await queue_documents(db, 1)
    work = ingestion(db, tmp_path, INGEST_LEASE_SECONDS=1, INGEST_MAX_ATTEMPTS=2)
    for dead in ("a", "b"):  # two workers claim it and die without a word
        async with db.session("service_role", {"role": "service_role"}) as conn:
            assert await jobs.claim(conn, dead, 0) is not None
    await asyncio.sleep(1.2)
    assert await Worker(work, events=None, name="c").run_once() is False
    async with db.session("service_role", {"role": "service_role"}) as conn:
        job = await conn.fetchrow(
            "select status, attempts, error from jobs where document_id = $1", doc
        )
        row = await conn.fetchrow("select status, error from documents where id = $1", doc)
    assert job["status"] == "failed" and job["attempts"] == 2
    assert row["status"] == "failed" and "after 2 attempts" in row["error"]


async def test_a_worker_whose_lease_is_taken_over_stops_at_its_next_heartbeat(
    db: Database, tmp_path: Path
) -> None:
    [doc] = await queue_documents(db, 1)
    work = ingestion(db, tmp_path, INGEST_LEASE_SECONDS=1.5)
    worker = Worker(work, events=None, name="slow")
    started = asyncio.Event()

    async def stuck(*_args: Any) -> int:
        started.set()
        await asyncio.sleep(60)  # a parse that hangs
        return 0

    import askbase.app.knowledge.ingest.worker as worker_module

    original = worker_module.ingest_document
    worker_module.ingest_document = stuck  # type: ignore[assignment]
    try:
        running = asyncio.create_task(worker.run_once())
        await started.wait()
        async with db.session("service_role", {"role": "service_role"}) as conn:
            await conn.execute("update jobs set locked_by = 'other' where document_id = $1", doc)
        assert await asyncio.wait_for(running, timeout=5) is True  # not the 60 s parse
    finally:
        worker_module.ingest_document = original  # type: ignore[assignment]


async def test_failures_are_retried_a_bounded_number_of_times(db: Database, tmp_path: Path) -> None:
    [doc] = await queue_documents(db, 1)
    # A real OpenAI-compatible client aimed at a port where nothing listens.
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    dead = OpenAIEmbedder(
        model="any",
        api_key="x",
        base_url=f"http://127.0.0.1:{port}/v1",
        dimension=384,
        max_retries=0,
    )
    work = ingestion(db, tmp_path, dead, INGEST_MAX_ATTEMPTS=3, INGEST_RETRY_SECONDS=0)
    worker = Worker(work, events=None, name="w")
    for attempt in (1, 2):
        assert await worker.run_once() is True
        async with db.session("service_role", {"role": "service_role"}) as conn:
            status = await conn.fetchval("select status from documents where id = $1", doc)
            job = await conn.fetchrow(
                "select status, attempts, error from jobs where document_id = $1", doc
            )
        assert status == "pending" and job["status"] == "queued" and job["attempts"] == attempt
        assert job["error"] == "the embedding service was unavailable"
    assert await worker.run_once() is True
    async with db.session("service_role", {"role": "service_role"}) as conn:
        row = await conn.fetchrow("select status, error from documents where id = $1", doc)
    assert row["status"] == "failed"
    assert (
        row["error"] == "Ingestion failed after 3 attempts: the embedding service was unavailable."
    )
    assert await worker.run_once() is False


async def test_ingesting_again_replaces_chunks_without_duplicates(
    db: Database, tmp_path: Path
) -> None:
    [doc] = await queue_documents(db, 1)
    work = ingestion(db, tmp_path)
    worker = Worker(work, events=None, name="w")
    assert await worker.run_once()
    async with db.session("service_role", {"role": "service_role"}) as conn:
        website = await conn.fetchval("select website_id from documents where id = $1", doc)
        await jobs.enqueue(conn, doc, website)
    assert await worker.run_once()
    async with db.session("service_role", {"role": "service_role"}) as conn:
        ordinals = await conn.fetch(
            "select ordinal from document_chunks where document_id = $1 order by 1", doc
        )
    assert [r["ordinal"] for r in ordinals] == [0, 1]


async def test_status_changes_reach_subscribers_on_another_instance(
    fresh_dsn: str, tmp_path: Path
) -> None:
    """Instance A ingests; a subscriber on instance B (no workers) sees every change."""
    token = owner_token()
    async with (
        running_api(fresh_dsn, tmp_path / "a", INGEST_WORKERS=1) as a,
        running_api(fresh_dsn, tmp_path / "b", INGEST_WORKERS=0) as b,
    ):
        website = (await b.data(CREATE_WEBSITE, {"input": {"domain": "two.example"}}, token=token))[
            "createWebsite"
        ]["id"]
        async with websockets.connect(b.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
                )
            )
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            doc = (
                await b.data(
                    'mutation($w: ID!, $t: String!) { addDocumentText(websiteId: $w, filename: "x.md", text: $t) { id } }',
                    {"w": website, "t": TEXT},
                    token=token,
                )
            )["addDocumentText"]["id"]
            query = "subscription($d: ID!) { documentStatus(documentId: $d) { status chunkCount } }"
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": query, "variables": {"d": doc}},
                    }
                )
            )
            statuses = []
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if message["type"] == "complete":
                    break
                statuses.append(message["payload"]["data"]["documentStatus"])
        assert statuses[-1] == {"status": "READY", "chunkCount": 2}
        assert a.state.db.transactions > 0
        async with b.state.db.session("service_role", {"role": "service_role"}) as conn:
            locked_by = await conn.fetchval("select count(*) from jobs where status = 'done'")
        assert locked_by == 1


async def test_shutdown_hands_a_running_job_back(db: Database, tmp_path: Path) -> None:
    [doc] = await queue_documents(db, 1)

    class Stalled(LocalEmbedder):
        async def embed(self, texts: Any, kind: Any = "passage") -> Any:
            await asyncio.sleep(3600)

    worker = Worker(ingestion(db, tmp_path, Stalled()), events=None, name="w")
    task = asyncio.create_task(worker.run_once())
    for _ in range(100):
        await asyncio.sleep(0.05)
        async with db.session("service_role", {"role": "service_role"}) as conn:
            if (
                await conn.fetchval("select status from jobs where document_id = $1", doc)
                == "running"
            ):
                break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.session("service_role", {"role": "service_role"}) as conn:
        job = await conn.fetchrow(
            "select status, error, locked_by from jobs where document_id = $1", doc
        )
        status = await conn.fetchval("select status from documents where id = $1", doc)
    assert dict(job) == {"status": "queued", "error": "interrupted", "locked_by": None}
    assert status == "pending"


async def test_websites_take_turns_in_the_queue(db: Database) -> None:
    """A website with a backlog does not starve another: claims alternate between
    websites, each website's own jobs in order."""
    busy = await queue_documents(db, 5)
    quiet = await queue_documents(db, 2)  # queued after all of the busy website's jobs
    claimed = []
    async with db.session("service_role", {"role": "service_role"}) as conn:
        while (job := await jobs.claim(conn, "w", 60)) is not None:
            claimed.append(job["document_id"])
    assert sorted(claimed) == sorted(busy + quiet)
    order = ["busy" if d in busy else "quiet" for d in claimed]
    assert order[:4] == ["busy", "quiet", "busy", "quiet"], order
    assert [d for d in claimed if d in busy] == busy and [d for d in claimed if d in quiet] == quiet
