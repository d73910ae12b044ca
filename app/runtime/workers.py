"""Ingestion in a child process at a lower CPU priority, supervised by `askbase serve`.

Parsing and embedding are CPU-bound: run in the server's own process they took the CPU
that answers need (time to first token ~5x slower during a large upload on 2 cores, even
with the worker yielding to answers). In a child with a higher nice value the kernel
gives the server's threads the CPU first, and the child takes what is left. The child is
`askbase worker` with the server's environment; with the embedded database it is given
the server's connection URI. It stops with the server, ends by itself if the server
dies, and is started again (with a growing delay) if it exits unexpectedly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

import asyncpg
import structlog

log = structlog.get_logger("askbase.workers")

# The embedded database's URI, for a worker process started by the server.
EMBEDDED_DSN_ENV = "ASKBASE_EMBEDDED_DSN"
STOP_SECONDS = 10


class WorkerProcess:
    def __init__(self, *, concurrency: int, nice: int, embedded_dsn: str | None) -> None:
        self.concurrency = concurrency
        self.nice = nice
        self.embedded_dsn = embedded_dsn
        self.process: asyncio.subprocess.Process | None = None
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "askbase.app.cli",
            "worker",
            "--concurrency",
            str(self.concurrency),
            "--nice",
            str(self.nice),
            "--parent",
            str(os.getpid()),
        ]

    async def start(self) -> None:
        await self._spawn()
        self._task = asyncio.create_task(self._supervise(), name="worker-process")

    async def _spawn(self) -> None:
        env = dict(os.environ)
        if self.embedded_dsn is not None:
            env[EMBEDDED_DSN_ENV] = self.embedded_dsn
        self.process = await asyncio.create_subprocess_exec(*self.command(), env=env)
        log.info("worker process started", pid=self.process.pid, nice=self.nice)

    async def _supervise(self) -> None:
        delay = 1.0
        while True:
            assert self.process is not None
            code = await self.process.wait()
            if self._stopping:
                return
            log.error("worker process exited; starting it again", code=code, delay=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
            if self._stopping:
                return
            await self._spawn()

    async def stop(self) -> None:
        """SIGTERM (a running job finishes, or is left for its lease to expire), then
        SIGKILL after STOP_SECONDS."""
        self._stopping = True
        process = self.process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), STOP_SECONDS)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def renice_backend(conn: asyncpg.Connection) -> None:
    """Give the database server process behind `conn` this process's CPU priority. Only
    for the embedded database, which runs on this machine: its writes for ingestion
    (index updates of every stored chunk) then also yield to the server's answers. Where
    the operating system does not allow it, nothing changes."""
    niceness = os.nice(0)
    if niceness <= 0:
        return
    pid = await conn.fetchval("select pg_backend_pid()")
    try:
        if os.getpriority(os.PRIO_PROCESS, pid) < niceness:
            os.setpriority(os.PRIO_PROCESS, pid, niceness)
    except OSError:
        log.info("cannot lower the database process's priority", pid=pid)


async def watch_parent(parent: int, stop: asyncio.Event) -> None:
    """Set `stop` once the process that started this one is gone (its children are
    re-parented), so a worker never outlives a server that was killed."""
    while not stop.is_set():
        if os.getppid() != parent:
            log.warning("the server that started this worker is gone; stopping")
            stop.set()
            return
        await asyncio.sleep(1)
