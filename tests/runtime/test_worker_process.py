"""`askbase serve` ingests in a child process at a lower CPU priority (INGEST_PROCESS):
an upload becomes READY through it, with the embedded database too; the child stops with
the server, and stops by itself when the server is killed."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx

from tests.conftest import Api, askbase_process, owner_token


def worker_processes(data_dir: Path) -> list[int]:
    """The `askbase worker` processes started for this data directory."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            b"worker" in command
            and b"--parent" in command
            and (f"ASKBASE_DATA_DIR={data_dir}".encode() in environ)
        ):
            found.append(int(entry.name))
    return found


def nice_of(pid: int) -> int | None:
    try:
        return os.getpriority(os.PRIO_PROCESS, pid)
    except OSError:
        return None


def database_backends(data_dir: Path) -> list[int]:
    """The processes of the embedded PostgreSQL in `data_dir` (its postmaster's children)."""
    processes = [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()]
    postmasters = []
    for pid in processes:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if (
            command.startswith(b"/")
            and b"postgres" in command
            and str(data_dir).encode() in command
        ):
            postmasters.append(pid)
    found = []
    for pid in processes:
        try:
            if parent_of(pid) in postmasters:
                found.append(pid)
        except (OSError, ValueError):
            continue
    return found


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


async def wait_until_gone(pids: list[int], within: float = 20) -> list[int]:
    deadline = time.monotonic() + within
    alive = pids
    while alive and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        alive = [pid for pid in alive if os.path.exists(f"/proc/{pid}")]  # noqa: ASYNC240
    return alive


async def test_the_server_ingests_in_a_niced_child_process(tmp_path: Path) -> None:
    owner = owner_token()
    data_dir = tmp_path / "data"
    with askbase_process("serve", data_dir, LOG_LEVEL="WARNING", INGEST_NICE="12") as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = Api(base_url=url, state=None, http=http)  # type: ignore[arg-type]
            site = await api.data(
                "mutation($i: CreateWebsiteInput!) { createWebsite(input: $i) { id } }",
                {"i": {"domain": "worker.example"}},
                token=owner,
            )
            added = await api.data(
                "mutation($w: ID!, $t: String!) {"
                ' addDocumentText(websiteId: $w, filename: "a.md", text: $t) { id } }',
                {"w": site["createWebsite"]["id"], "t": "# Hours\n\nOpen nine to five."},
                token=owner,
            )
            document = added["addDocumentText"]["id"]
            status = None
            for _ in range(600):
                found = await api.data(
                    "query($d: ID!) { document(id: $d) { status } }", {"d": document}, token=owner
                )
                status = found["document"]["status"]
                if status in ("READY", "FAILED"):
                    break
                await asyncio.sleep(0.1)
            assert status == "READY"
            workers = worker_processes(data_dir)
            assert len(workers) == 1, workers
            assert os.getpriority(os.PRIO_PROCESS, workers[0]) == 12
            # The embedded database's sessions of the worker run at its priority too.
            niced = [pid for pid in database_backends(data_dir) if nice_of(pid) == 12]
            assert niced, "no database session of the worker was reniced"
    assert await wait_until_gone(workers) == [], "the worker outlived the server"


async def test_a_worker_stops_when_its_server_is_killed(fresh_dsn: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"  # a database of its own: a killed server leaves nothing
    with askbase_process("serve", data_dir, LOG_LEVEL="WARNING", DATABASE_URL=fresh_dsn):
        workers: list[int] = []
        for _ in range(100):
            workers = worker_processes(data_dir)
            if workers:
                break
            await asyncio.sleep(0.1)
        assert len(workers) == 1
        server = parent_of(workers[0])
        os.kill(server, signal.SIGKILL)
        assert await wait_until_gone(workers) == [], "the worker outlived a killed server"
