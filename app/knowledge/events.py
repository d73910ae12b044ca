"""Postgres LISTEN/NOTIFY, fanned out inside one process.

One connection per process listens for document status changes (whoever made them, on
any instance), for new jobs, and for chat activity (database/migrations/010_handoff.sql).
It reconnects by itself after a database outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import structlog

DOCUMENTS = "askbase_documents"
JOBS = "askbase_jobs"
CHATS = "askbase_chats"
log = structlog.get_logger("askbase.events")


class Events:
    def __init__(self, dsn: str, *, listen: bool = True) -> None:
        """`listen=False` behind a transaction-mode pooler, where a LISTEN is lost with
        its transaction: nothing is announced, and waiters poll every `poll_seconds`."""
        self.dsn = dsn
        self.listen = listen
        self.poll_seconds = 5.0 if listen else 1.0  # workers' wait between empty claims
        self.recheck_seconds = 30.0 if listen else 1.0  # a watched document is re-read
        self.jobs_available = asyncio.Event()
        self._subscribers: dict[uuid.UUID, set[asyncio.Queue[str]]] = defaultdict(set)
        self._chat_watchers: dict[uuid.UUID, set[asyncio.Queue[None]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def start(self) -> None:
        if not self.listen:
            return
        self._task = asyncio.create_task(self._run(), name="askbase-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @contextlib.asynccontextmanager
    async def document_changes(self, document_id: uuid.UUID) -> AsyncIterator[asyncio.Queue[str]]:
        """A queue of the document's new statuses, for as long as the block runs."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=64)
        self._subscribers[document_id].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[document_id].discard(queue)
            if not self._subscribers[document_id]:
                del self._subscribers[document_id]

    @contextlib.asynccontextmanager
    async def chat_activity(self, key: uuid.UUID) -> AsyncIterator[asyncio.Queue[None]]:
        """A queue that gets a wake-up whenever something happens in a chat (`key`: its
        id) or in any chat of a website (`key`: the website's id): a finished message, a
        new chat, a hand-off change. What happened is read from the database."""
        queue: asyncio.Queue[None] = asyncio.Queue(maxsize=1)
        self._chat_watchers[key].add(queue)
        try:
            yield queue
        finally:
            self._chat_watchers[key].discard(queue)
            if not self._chat_watchers[key]:
                del self._chat_watchers[key]

    def _on_chat(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        try:
            event = json.loads(str(payload))
            keys = (uuid.UUID(event["chat"]), uuid.UUID(event["website"]))
        except (ValueError, KeyError, TypeError):
            return
        for key in keys:
            for queue in self._chat_watchers.get(key, ()):
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(None)

    def _on_document(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        try:
            event = json.loads(str(payload))
            document_id = uuid.UUID(event["id"])
        except (ValueError, KeyError, TypeError):
            return
        for queue in self._subscribers.get(document_id, ()):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(str(event.get("status", "")))

    def _on_job(self, _conn: Any, _pid: int, _channel: str, _payload: object) -> None:
        self.jobs_available.set()

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                conn = await asyncpg.connect(self.dsn)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
                continue
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            try:
                await conn.add_listener(DOCUMENTS, self._on_document)
                await conn.add_listener(JOBS, self._on_job)
                await conn.add_listener(CHATS, self._on_chat)
                delay = 0.5
                self._connected.set()
                # Whatever changed while we were away: let waiters look again.
                self.jobs_available.set()
                for queues in list(self._subscribers.values()):
                    for queue in queues:
                        with contextlib.suppress(asyncio.QueueFull):
                            queue.put_nowait("")
                for watchers in list(self._chat_watchers.values()):
                    for watcher in watchers:
                        with contextlib.suppress(asyncio.QueueFull):
                            watcher.put_nowait(None)
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), timeout=15)
                    if not lost.is_set():
                        await conn.execute("select 1")  # notices a dead socket
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                pass
            finally:
                self._connected.clear()
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)
            log.warning(
                "listener connection lost; reconnecting",
                hint=(
                    "LISTEN needs a session: if DATABASE_URL is a transaction-mode pooler "
                    "(PgBouncer, Supabase's port 6543), set DATABASE_POOL_MODE=transaction"
                ),
            )
