"""`askbase crawl`: add (or reuse) a website source and sync it here, with progress.

The sync is the one the server runs (a sync job, app/knowledge/sources/sync.py), claimed
by ingestion workers in this process, which also embed the pages it stores. Interrupted,
the job goes back to the queue and the source stays SYNCING: the same command again
resumes it, and the pages already done are not fetched again.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from dataclasses import dataclass, field

import asyncpg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from askbase.app.core.settings import Settings
from askbase.app.knowledge.ingest.worker import Worker
from askbase.app.knowledge.sources.owners import NewSource, check
from askbase.app.knowledge.sources.owners import insert as insert_source
from askbase.app.runtime.services import open_services
from askbase.app.runtime.state import AppState
from askbase.database import sources, websites

POLL_SECONDS = 0.25


@dataclass
class CrawlSummary:
    url: str
    source_id: uuid.UUID
    resumed: bool  # an interrupted sync was taken up again
    state: str  # IDLE or FAILED
    error: str | None
    stored: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    removed: int = 0
    chunks: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)

    @property
    def fetched(self) -> int:
        return self.stored + self.unchanged + self.skipped + self.failed

    @property
    def ok(self) -> bool:
        return self.state == "idle" and not self.failures


async def crawl(
    settings: Settings, website_id: uuid.UUID, new: NewSource, workers: int, console: Console
) -> CrawlSummary:
    """Sync the website's source for `new.url` (added when there is none) to its end.

    Raises LookupError (no such website) or BadUserInput (the URL or options); SIGTERM
    cancels it as SIGINT does (asyncio.CancelledError), the sync left to resume.
    """
    main = asyncio.current_task()
    assert main is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    async with open_services(settings, workers=0) as state:
        source, resumed = await _source(state, website_id, new)
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(Worker(state.ingestion, state.events).run(stop))
            for _ in range(max(1, workers))
        ]
        try:
            return await _follow(state, source, resumed, console)
        finally:
            for task in tasks:  # a job in hand goes back to the queue (resumable)
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def _source(
    state: AppState, website_id: uuid.UUID, new: NewSource
) -> tuple[asyncpg.Record, bool]:
    """The website's source for this URL and kind, with the given options, its sync
    queued (unless one is queued or running); whether an interrupted sync resumes."""
    async with state.db.service() as conn:
        if not await websites.by_ids(conn, [website_id], owner_view=False):
            raise LookupError(f"website {website_id} does not exist")
    url = await check(state.settings, new)
    async with state.db.service() as conn:
        existing = [
            s
            for s in await sources.for_website(conn, website_id)
            if s["url"] == url and s["kind"] == new.kind
        ]
        if existing:
            source_id: uuid.UUID = existing[0]["id"]
            resumed = existing[0]["state"] == "syncing"
            await sources.configure(
                conn,
                source_id,
                include_patterns=new.include_patterns,
                exclude_patterns=new.exclude_patterns,
                max_pages=new.max_pages,
            )
        else:
            resumed = False
            source_id = await insert_source(conn, state.settings, website_id, url, new)
        await sources.enqueue_sync(conn, source_id, website_id)
        row = await sources.by_id(conn, source_id)
    assert row is not None
    return row, resumed


async def _follow(
    state: AppState, source: asyncpg.Record, resumed: bool, console: Console
) -> CrawlSummary:
    """Show the sync's pages and the embedding of what it stored until both are done."""
    source_id: uuid.UUID = source["id"]
    columns = (
        TextColumn("[bold]{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        pages = progress.add_task("pages", total=None, note="")
        embedded = progress.add_task("embedded", total=None, note="")
        while True:
            async with state.db.service() as conn:
                row = await sources.by_id(conn, source_id)
                docs = await sources.sync_documents(conn, source_id)
            if row is None:
                raise LookupError("the source was deleted while it synced")
            synced = row["state"] in ("idle", "failed")
            if row["state"] == "queued":  # the counts are still the last sync's
                progress.update(pages, note="waiting for a worker")
                await asyncio.sleep(POLL_SECONDS)
                continue
            progress.update(
                pages,
                completed=row["discovered"],
                total=row["discovered"] if synced else None,
                note=f"{row['stored']} stored, {row['unchanged']} unchanged, "
                f"{row['failed']} failed",
            )
            progress.update(embedded, completed=docs["done"], total=docs["stored"] or None)
            if synced and docs["done"] == docs["stored"]:
                break
            await asyncio.sleep(POLL_SECONDS)
    async with state.db.service() as conn:
        failures = await sources.failed_in_sync(conn, source_id)
    return CrawlSummary(
        url=row["url"],
        source_id=source_id,
        resumed=resumed,
        state=row["state"],
        error=row["error"],
        stored=row["stored"],
        unchanged=row["unchanged"],
        skipped=row["skipped"],
        failed=row["failed"],
        removed=row["removed"],
        chunks=docs["chunks"],
        failures=[(f["url"], f["error"]) for f in failures],
    )
