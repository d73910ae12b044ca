"""Ingestion workers: claim a job, parse, chunk, embed, store; retry what may pass later.

The chunks of a document are written in the same transaction that marks it READY, so a
crash at any point leaves either the old state or the new one: never half, never twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import numpy as np
import structlog

from askbase.app.core.errors import is_outage
from askbase.app.core.settings import Settings
from askbase.app.knowledge.embeddings import Embedder, WordPieceCounter
from askbase.app.knowledge.events import Events
from askbase.app.knowledge.ingest.chunk import (
    chunk_blocks,
    chunk_title,
    document_summary,
    embedding_text,
)
from askbase.app.knowledge.ingest.detect import UnsupportedFile, detect
from askbase.app.knowledge.ingest.parse import ParseError
from askbase.app.knowledge.ingest.sandbox import ParserSandbox
from askbase.app.knowledge.storage import StorageUnavailable, SupabaseStore, object_path
from askbase.database import chunks, documents, jobs, sources
from askbase.database.pool import Database

log = structlog.get_logger("askbase.ingest")


EMBED_BATCH = 16  # passages embedded per step (~0.2 s); answers go first between steps


@dataclass(frozen=True, slots=True)
class Ingestion:
    """What a worker needs: the database, the embedder, and how to chunk."""

    db: Database
    embedder: Embedder
    counter: WordPieceCounter
    settings: Settings
    store: SupabaseStore | None = None  # None: files are in Postgres
    sandbox: ParserSandbox = field(default_factory=ParserSandbox)  # parses each file
    # Awaited between embedding batches: waits while answers queue (chat before ingestion).
    pause: Callable[[], Awaitable[None]] | None = None
    # Runs a claimed website-source sync job (app/knowledge/sources/sync.py).
    sync: Callable[[Ingestion, asyncpg.Record, str], Awaitable[None]] | None = None
    # Scheduled upkeep run between jobs: the retention job (app/insights/privacy.py).
    housekeeping: Callable[[Database], Awaitable[None]] | None = None


async def ingest_document(
    ingestion: Ingestion, document_id: uuid.UUID, worker: str, job_id: uuid.UUID
) -> int:
    """Parse, chunk and embed one document; store its chunks and mark it READY."""
    async with ingestion.db.service() as conn:
        row = await documents.with_file(conn, document_id)
    if row is None:
        raise ParseError("the document's file is missing")
    if row["storage"] == "supabase":
        if ingestion.store is None:
            raise StorageUnavailable("the file is in Supabase Storage, which is not configured")
        data: bytes = await ingestion.store.get(object_path(row["website_id"], document_id))
    elif row["data"] is None:
        raise ParseError("the document's file is missing")
    else:
        data = row["data"]
    filename: str = row["filename"]
    settings = ingestion.settings

    blocks = await ingestion.sandbox.parse(
        detect(data, filename).format,
        data,
        memory_mb=settings.parse_memory_mb,
        timeout_seconds=settings.parse_timeout_seconds,
    )

    def prepare() -> tuple[str, list[tuple[tuple[str, ...], str, str]]]:
        summary = document_summary(blocks)
        pieces = chunk_blocks(
            blocks,
            title=filename,
            count=ingestion.counter.count,
            target=settings.chunk_tokens,
            overlap=settings.chunk_overlap,
            summary=summary,
        )
        return summary, [
            (c.heading_path, chunk_title(filename, c.heading_path), c.content) for c in pieces
        ]

    summary, prepared = await asyncio.to_thread(prepare)
    texts = [embedding_text(title, content, summary) for _, title, content in prepared]
    parts = []
    for start in range(0, len(texts), EMBED_BATCH):  # small steps, each after the answers
        if ingestion.pause is not None:
            await ingestion.pause()
        parts.append(await ingestion.embedder.embed(texts[start : start + EMBED_BATCH], "passage"))
    vectors = np.concatenate(parts) if parts else np.zeros((0, ingestion.embedder.dimension))
    new = [
        chunks.NewChunk(
            content=content, heading_path=path, title=title, summary=summary, embedding=vector
        )
        for (path, title, content), vector in zip(prepared, vectors, strict=True)
    ]
    async with ingestion.db.service() as conn:
        if not await jobs.finish(conn, job_id, worker, "done", None):
            raise _LostLease
        await chunks.replace(conn, document_id, row["website_id"], new)
        await documents.set_status(conn, document_id, "ready", error=None, chunk_count=len(new))
    return len(new)


class _LostLease(Exception):
    """Another worker took the job over (this one was too slow): drop our result."""


class Worker:
    def __init__(
        self, ingestion: Ingestion, events: Events | None, name: str | None = None
    ) -> None:
        self.ingestion = ingestion
        self.events = events
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    async def run(self, stop: asyncio.Event, poll_seconds: float | None = None) -> None:
        """Work until `stop` is set: take jobs while there are any, then wait for more
        (a notice wakes the worker; it looks again every `poll_seconds` regardless)."""
        if poll_seconds is None:
            poll_seconds = self.events.poll_seconds if self.events else 5.0
        while not stop.is_set():
            try:
                worked = await self.run_once()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("worker cannot reach the database", error=type(error).__name__)
                worked = False
            except Exception as error:
                if not is_outage(error):  # a connection caught mid-statement by an outage
                    raise
                log.warning("worker cannot reach the database", error=type(error).__name__)
                worked = False
            if worked:
                continue
            wake = self.events.jobs_available if self.events else asyncio.Event()
            wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
            await asyncio.wait(waiters, timeout=poll_seconds, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def run_once(self) -> bool:
        """Claim and process one job; False when there was none."""
        settings = self.ingestion.settings
        if self.ingestion.housekeeping is not None:
            await self.ingestion.housekeeping(self.ingestion.db)
        async with self.ingestion.db.service() as conn:
            attempts = settings.ingest_max_attempts
            abandoned = await jobs.fail_abandoned(
                conn,
                settings.ingest_lease_seconds,
                attempts,
                f"Ingestion stopped after {attempts} attempts: processing this file never "
                "finished (it may be too large or malformed).",
            )
            if abandoned:
                log.warning("jobs failed after their last lease ran out", jobs=abandoned)
            await sources.enqueue_due(conn)  # scheduled website syncs
            job = await jobs.claim(conn, self.name, settings.ingest_lease_seconds)
            if job is not None and job["document_id"] is not None:
                await documents.set_status(conn, job["document_id"], "processing")
        if job is None:
            return False
        await self._process(job)
        return True

    async def _process(self, job: asyncpg.Record) -> None:
        if job["kind"] == "sync":  # a website source: its pages become documents
            if self.ingestion.sync is None:
                async with self.ingestion.db.service() as conn:
                    await jobs.retry_later(conn, job["id"], self.name, 60, "no syncs here")
                return
            await self.ingestion.sync(self.ingestion, job, self.name)
            return
        settings = self.ingestion.settings
        document_id: uuid.UUID = job["document_id"]
        bound = log.bind(
            document_id=str(document_id), job_id=str(job["id"]), attempt=job["attempts"]
        )
        heartbeat = asyncio.create_task(self._heartbeat(job["id"]))
        work = asyncio.create_task(
            ingest_document(self.ingestion, document_id, self.name, job["id"])
        )
        try:
            await asyncio.wait({work, heartbeat}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():  # the heartbeat found the lease taken over: stop now
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
                raise _LostLease
            count = work.result()
            bound.info("document ready", chunks=count)
        except (ParseError, UnsupportedFile) as error:
            bound.info("document failed", reason=str(error))
            await self._fail(job, f"Cannot read this file: {error}.")
        except _LostLease:
            bound.warning("job was taken over by another worker; result dropped")
        except asyncio.CancelledError:
            # Shutting down: hand the job back now instead of waiting for its lease to end.
            async with self.ingestion.db.service() as conn:
                if await jobs.retry_later(conn, job["id"], self.name, 0, "interrupted"):
                    await documents.set_status(conn, document_id, "pending")
            raise
        except Exception as error:
            bound.exception("ingestion attempt failed")
            if job["attempts"] >= settings.ingest_max_attempts:
                reason = _safe_reason(error)
                await self._fail(
                    job, f"Ingestion failed after {job['attempts']} attempts: {reason}."
                )
            else:
                delay = settings.ingest_retry_seconds * 2 ** (job["attempts"] - 1)
                async with self.ingestion.db.service() as conn:
                    if await jobs.retry_later(
                        conn, job["id"], self.name, delay, _safe_reason(error)
                    ):
                        await documents.set_status(conn, document_id, "pending")
        finally:
            for task in (work, heartbeat):
                task.cancel()  # no-ops for a finished task
            await asyncio.gather(work, heartbeat, return_exceptions=True)

    async def _fail(self, job: asyncpg.Record, message: str) -> None:
        async with self.ingestion.db.service() as conn:
            if await jobs.finish(conn, job["id"], self.name, "failed", message):
                await documents.set_status(conn, job["document_id"], "failed", error=message)

    async def _heartbeat(self, job_id: uuid.UUID) -> None:
        """Extend the lease until cancelled; return once another worker holds the job."""
        interval = max(0.5, self.ingestion.settings.ingest_lease_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                async with self.ingestion.db.service() as conn:
                    if not await jobs.heartbeat(conn, job_id, self.name):
                        return


def _safe_reason(error: BaseException) -> str:
    """A reason fit for owners to read: the kind of failure, never internal details."""
    from askbase.app.knowledge.embeddings import EmbeddingUnavailable

    if isinstance(error, EmbeddingUnavailable):
        return "the embedding service was unavailable"
    if isinstance(error, (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError)):
        return "the database was unavailable"
    return "an internal error occurred"
