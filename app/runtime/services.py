"""Everything a process shares, built once: used by the HTTP lifespan and the CLI."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from importlib.metadata import version

import asyncpg
import structlog

from askbase.app.auth.ratelimit import RateLimits
from askbase.app.auth.tokens import TokenVerifier, load_keys
from askbase.app.chat.admission import Admission
from askbase.app.chat.answer import build_model
from askbase.app.chat.webhooks import Webhooks
from askbase.app.core.settings import Settings
from askbase.app.insights.privacy import RetentionJob
from askbase.app.knowledge.embedder_check import adopt_or_check
from askbase.app.knowledge.embeddings import QueryCache, WordPieceCounter, build_embedder
from askbase.app.knowledge.events import Events
from askbase.app.knowledge.ingest.worker import Ingestion, Worker
from askbase.app.knowledge.sources.sync import run_sync_job
from askbase.app.knowledge.storage import open_store
from askbase.app.observability.metrics import Metrics
from askbase.app.runtime.state import AppState
from askbase.app.runtime.workers import WorkerProcess, renice_backend
from askbase.database.embedded import EmbeddedDatabase
from askbase.database.migrate import migrate
from askbase.database.pool import Database, create_pool

log = structlog.get_logger("askbase")


def database(settings: Settings, dsn: str | None = None) -> tuple[str, EmbeddedDatabase | None]:
    """The configured DATABASE_URL (or `dsn`: the embedded database of the server that
    started this worker), or an embedded server started for this process."""
    if dsn is not None:
        return dsn, None
    if settings.database_url is not None:
        return settings.database_url.get_secret_value(), None
    embedded = EmbeddedDatabase(settings.data_dir)
    return embedded.uri, embedded


async def apply_migrations(dsn: str) -> list[str]:
    """Check the database and migrate it. Raises DatabaseSetupError or MigrationError with
    one readable line, or OSError / asyncpg errors when it cannot be reached."""
    # No statement cache: safe through a transaction-mode pooler whatever the settings say.
    conn = await asyncpg.connect(dsn, statement_cache_size=0)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    workers: int | None = None,
    check_embedder: bool = True,
    dsn: str | None = None,
) -> AsyncIterator[AppState]:
    """Database (embedded or configured, migrated), pool, embedder, events and workers.

    `workers` ingestion workers run in this process; by default (the server) the
    INGEST_WORKERS run in a child process at a lower CPU priority (INGEST_PROCESS, see
    app/runtime/workers.py), or in this one. `check_embedder=False` skips the
    stored-vectors check (for `askbase reindex`). `dsn`: a database to use instead of
    the configured one (a worker started by a server with the embedded database).
    """
    worker_of_embedded = dsn is not None
    dsn, embedded = database(settings, dsn)
    async with contextlib.AsyncExitStack() as stack:
        if embedded is not None:
            stack.callback(embedded.release)
        applied = await apply_migrations(dsn)
        if applied:
            log.info("migrations applied", versions=applied)
        built = await build_embedder(
            provider=settings.embedding_provider,
            model=settings.embedding_model,
            dimensions=settings.embedding_dimensions,
            api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
            base_url=settings.openai_base_url,
        )
        embedder = QueryCache(built, settings.query_cache_size)
        stack.push_async_callback(embedder.aclose)
        mode = settings.database_pool_mode
        if mode == "session" and ":6543/" in dsn:
            log.warning(
                "port 6543 is Supabase's transaction pooler: if DATABASE_URL points at it, "
                "set DATABASE_POOL_MODE=transaction"
            )
        pool = await create_pool(
            dsn,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            mode=mode,
            # a niced worker of a server with the embedded database: its database
            # sessions run at the worker's priority too
            on_connect=renice_backend if worker_of_embedded else None,
        )
        stack.push_async_callback(pool.close)
        db = Database(pool)
        if check_embedder:
            async with db.service() as conn:
                await adopt_or_check(conn, embedder)
        events = Events(dsn, listen=mode == "session")
        await events.start()
        stack.push_async_callback(events.stop)
        keys = load_keys(settings)
        counter = await asyncio.to_thread(WordPieceCounter)
        chat_model = build_model(settings)
        stack.push_async_callback(chat_model.aclose)
        store = await open_store(settings)
        if store is not None:
            stack.push_async_callback(store.aclose)
        metrics = Metrics()
        admission = Admission(
            slots=settings.answer_slots,
            queue=settings.answer_queue,
            wait_seconds=settings.answer_queue_seconds,
            per_website=settings.answer_slots_per_website,
            per_visitor=settings.answer_slots_per_visitor,
            metrics=metrics,
        )
        webhooks = Webhooks(db, settings, version("askbase"))
        stack.push_async_callback(webhooks.aclose)
        state = AppState(
            settings=settings,
            db=db,
            keys=keys,
            verifier=TokenVerifier(keys, settings.jwt_audience),
            limits=RateLimits(
                settings.rate_limit_ip_per_minute,
                settings.rate_limit_website_per_minute,
                pool if settings.rate_limit_backend == "postgres" else None,
                client_secret=keys.client_secret,
            ),
            version=version("askbase"),
            embedder=embedder,
            events=events,
            ingestion=Ingestion(
                db=db,
                embedder=embedder,
                counter=counter,
                settings=settings,
                store=store,
                pause=admission.pause_for_answers,  # chat before ingestion
                sync=run_sync_job,  # website sources
                housekeeping=RetentionJob(),  # chats past their website's retention
            ),
            store=store,
            chat_model=chat_model,
            metrics=metrics,
            admission=admission,
            webhooks=webhooks,
        )
        stop = asyncio.Event()
        child = workers is None and settings.ingest_process and settings.ingest_workers > 0
        if child:
            process = WorkerProcess(
                concurrency=settings.ingest_workers,
                nice=settings.ingest_nice,
                embedded_dsn=dsn if embedded is not None else None,
            )
            await process.start()
            stack.push_async_callback(process.stop)
        in_process = 0 if child else settings.ingest_workers if workers is None else workers
        tasks = [
            asyncio.create_task(Worker(state.ingestion, events).run(stop), name=f"worker-{i}")
            for i in range(in_process)
        ]

        async def stop_workers() -> None:
            stop.set()
            _done, running = await asyncio.wait(tasks, timeout=10) if tasks else (set(), set())
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

        stack.push_async_callback(stop_workers)
        stack.push_async_callback(state.ingestion.sandbox.aclose)
        log.info(
            "ready",
            embedded=embedded is not None,
            embedder=embedder.name,
            workers=len(tasks),
            worker_process=child,
        )
        yield state
    log.info("stopped")
