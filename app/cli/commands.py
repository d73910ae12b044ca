"""The long-running CLI commands: worker, ingest, reindex (argument parsing is in cli.py)."""

from __future__ import annotations

import asyncio
import hashlib
import signal
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from askbase.app.core.settings import Settings
from askbase.app.knowledge.ingest.chunk import embedding_text
from askbase.app.knowledge.ingest.detect import UnsupportedFile, detect
from askbase.app.knowledge.library import create as create_document
from askbase.app.runtime.services import open_services
from askbase.app.runtime.workers import watch_parent
from askbase.database import chunks, documents, embedding_settings, websites

log = structlog.get_logger("askbase")


async def run_worker(
    settings: Settings, concurrency: int, *, parent: int | None = None, dsn: str | None = None
) -> None:
    """Ingestion workers in this process until SIGINT/SIGTERM (or until `parent`, the
    server that started it, is gone); a running job finishes."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    watch = asyncio.create_task(watch_parent(parent, stop)) if parent is not None else None
    try:
        async with open_services(settings, workers=concurrency, dsn=dsn):
            await stop.wait()
    finally:
        if watch is not None:
            watch.cancel()


@dataclass
class IngestSummary:
    queued: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unsupported: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    ready: list[str] = field(default_factory=list)
    chunks: int = 0
    documents: dict[str, uuid.UUID] = field(default_factory=dict)  # by path, when stored


def collect(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return found


async def ingest_paths(
    settings: Settings, website_id: uuid.UUID, paths: list[Path], concurrency: int, console: Console
) -> IngestSummary:
    """Queue every file not yet stored (by content hash), then work until all are done.

    Run it again after an interruption: stored files are skipped, queued ones resumed.
    """
    summary = IngestSummary()
    files = collect(paths)
    async with open_services(settings, workers=concurrency) as state:
        waiting: dict[uuid.UUID, str] = {}
        async with state.db.service() as conn:
            if not await websites.by_ids(conn, [website_id], owner_view=False):
                raise LookupError(f"website {website_id} does not exist")
        for path in files:
            data = path.read_bytes()
            name = str(path)
            if len(data) > settings.max_upload_bytes:
                summary.unsupported.append((name, f"larger than {settings.max_upload_bytes} bytes"))
                continue
            try:
                detected = detect(data, path.name)
            except UnsupportedFile as error:
                summary.unsupported.append((name, str(error)))
                continue
            digest = hashlib.sha256(data).hexdigest()
            async with state.db.service() as conn:
                existing = await documents.by_sha256(conn, website_id, digest)
                if existing is not None and existing["status"] == "ready":
                    summary.documents[name] = existing["id"]
                    summary.skipped.append(name)
                    continue
                if existing is not None and existing["status"] in ("pending", "processing"):
                    waiting[existing["id"]] = name  # queued by an earlier run: resume
                    continue
            row = await create_document(
                state, state.db.service, website_id, path.name, detected.mime, data, digest
            )
            waiting[row["id"]] = name
            summary.queued.append(name)

        columns = (
            TextColumn("[bold]ingesting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            bar = progress.add_task("ingest", total=len(waiting))
            ids = list(waiting)
            while True:
                async with state.db.service() as conn:
                    rows = await documents.by_ids(conn, ids)
                done = [r for r in rows if r["status"] in ("ready", "failed")]
                progress.update(bar, completed=len(done))
                if len(done) == len(ids):
                    break
                await asyncio.sleep(0.25)
        for row in rows:
            summary.documents[waiting[row["id"]]] = row["id"]
            if row["status"] == "ready":
                summary.ready.append(waiting[row["id"]])
                summary.chunks += row["chunk_count"]
            else:
                summary.failed.append((waiting[row["id"]], row["error"] or "failed"))
    return summary


async def reindex(settings: Settings, console: Console, batch: int = 256) -> int:
    """Re-embed every chunk with the configured embedder and record it as the embedder."""
    async with open_services(settings, workers=0, check_embedder=False) as state:
        embedder = state.embedder
        async with state.db.service() as conn:
            total = await chunks.count_all(conn)
            if await chunks.embedding_column_dimension(conn) != embedder.dimension:
                await chunks.set_embedding_dimension(conn, embedder.dimension)
        done = 0
        after: uuid.UUID | None = None
        columns = (TextColumn("[bold]re-embedding"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            bar = progress.add_task("reindex", total=total)
            while True:
                async with state.db.service() as conn:
                    rows = await chunks.all_for_reindex(conn, after, batch)
                if not rows:
                    break
                texts = [embedding_text(r["title"], r["content"], r["summary"]) for r in rows]
                vectors = await embedder.embed(texts, "passage")
                async with state.db.service() as conn:
                    await chunks.set_embeddings(
                        conn, [(r["id"], v) for r, v in zip(rows, vectors, strict=True)]
                    )
                done += len(rows)
                after = rows[-1]["id"]
                progress.update(bar, completed=done)
        async with state.db.service() as conn:
            await embedding_settings.put(conn, embedder.name, embedder.dimension)
        return done
