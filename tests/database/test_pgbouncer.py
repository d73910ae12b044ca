"""askbase behind a real PgBouncer in transaction mode, as Supabase's pooler on port 6543
runs: migrations, uploads ingested to READY, streamed chats (several at once), the
Postgres-backed rate limit, and no session state left on the pooler's server connections.
Without DATABASE_POOL_MODE=transaction askbase must either still work or say why not.

PgBouncer lets a client keep a server connection for one transaction only; with a pool of
two server connections, the transactions of askbase's many connections interleave on them,
so a prepared statement, a LISTEN, a session-level SET or lock made by one client would
reach the others."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import socket
import struct
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest

from askbase.database.migrate import load_migrations
from tests.chat.test_chat_stream import MESSAGES, connected, events, new_chat, start
from tests.conftest import (
    ORIGIN,
    START_SESSION,
    Api,
    askbase_process,
    embedded_postgres,
    free_socket,
    owner_token,
    stop_process,
)
from tests.knowledge.test_documents import DOCUMENT, upload, wait_until_done
from tests.web.test_ws import recv


def _pgbouncer_binary() -> str | None:
    found = shutil.which("pgbouncer")
    if found:
        return found
    # Debian installs it in /usr/sbin, which is not on every user's PATH.
    for candidate in ("/usr/sbin/pgbouncer", "/usr/local/sbin/pgbouncer"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


PGBOUNCER = _pgbouncer_binary()
pytestmark = pytest.mark.skipif(
    PGBOUNCER is None, reason="pgbouncer is not installed (apt-get install pgbouncer)"
)

POOL_SIZE = 2  # server connections per database: small, so that transactions interleave
# Parameters PgBouncer itself sets on a server connection to match each client.
TRACKED_PARAMETERS = [
    "application_name",
    "client_encoding",
    "DateStyle",
    "standard_conforming_strings",
    "TimeZone",
]
FAQ = (
    b"# Shipping\n\nParcels leave the warehouse within two working days.\n\n"
    b"# Returns\n\nReturns are accepted for thirty days after delivery."
)
QUESTIONS = [
    ("How long are returns accepted?", "thirty days"),
    ("When do parcels leave the warehouse?", "two working days"),
]
CREATE_SITE = "mutation($i: CreateWebsiteInput!) { createWebsite(input: $i) { id } }"


# --- PgBouncer ------------------------------------------------------------------------


@dataclass
class Pooler:
    """A PgBouncer in transaction mode in front of the embedded PostgreSQL."""

    direct: str  # the server itself, over its Unix socket
    port: int
    user: str
    log: Path

    def url(self, database: str = "askbase") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def admin(self, command: str) -> list[dict[str, str | None]]:
        """A command on PgBouncer's admin console (its `pgbouncer` database), which speaks
        only the simple query protocol: asyncpg cannot read its rows, so this does."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            stream = sock.makefile("rb")
            params = f"user\0{self.user}\0database\0pgbouncer\0\0".encode()
            sock.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
            _read_until_ready(stream)
            query = command.encode() + b"\0"
            sock.sendall(b"Q" + struct.pack("!i", 4 + len(query)) + query)
            rows = _read_until_ready(stream)
            sock.sendall(b"X" + struct.pack("!i", 4))  # Terminate: a clean goodbye
            return rows


def _read_until_ready(stream: Any) -> list[dict[str, str | None]]:
    columns: list[str] = []
    rows: list[dict[str, str | None]] = []
    while True:
        kind = stream.read(1)
        assert kind, "PgBouncer closed the admin connection"
        (length,) = struct.unpack("!i", stream.read(4))
        body: bytes = stream.read(length - 4)
        if kind == b"E":
            raise AssertionError(f"PgBouncer admin console: {body!r}")
        if kind == b"R":
            assert struct.unpack("!i", body[:4])[0] == 0, "admin login needs a password"
        elif kind == b"T":
            (count,) = struct.unpack("!h", body[:2])
            columns, at = [], 2
            for _ in range(count):
                end = body.index(b"\0", at)
                columns.append(body[at:end].decode())
                at = end + 1 + 18  # table oid, column, type oid, size, modifier, format
        elif kind == b"D":
            (count,) = struct.unpack("!h", body[:2])
            values: list[str | None] = []
            at = 2
            for _ in range(count):
                (size,) = struct.unpack("!i", body[at : at + 4])
                at += 4
                values.append(None if size < 0 else body[at : at + size].decode())
                at += max(size, 0)
            rows.append(dict(zip(columns, values, strict=True)))
        elif kind == b"Z":
            return rows


@contextmanager
def pgbouncer(direct: str, folder: Path, databases: Mapping[str, str]) -> Iterator[Pooler]:
    """PgBouncer on 127.0.0.1 and a free port, in the foreground, until the block ends.
    `databases` maps the names clients use to databases of the server at `direct`."""
    parts = urlsplit(direct)
    query = parse_qs(parts.query)
    socket_dir = query["host"][0]  # pgserver listens on a Unix socket only
    server_port = parts.port or int(query.get("port", ["5432"])[0])
    user = parts.username or "postgres"
    folder.mkdir(parents=True, exist_ok=True)
    with free_socket() as sock:
        port = sock.getsockname()[1]
    (folder / "users.txt").write_text(f'"{user}" ""\n')
    entries = "\n".join(
        f"{alias} = host={socket_dir} port={server_port} dbname={name} user={user}"
        for alias, name in databases.items()
    )
    config = folder / "pgbouncer.ini"
    config.write_text(
        f"""[databases]
{entries}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
; no Unix socket: it would take /tmp/.s.PGSQL.<port>
unix_socket_dir =
pool_mode = transaction
default_pool_size = {POOL_SIZE}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 500
; transaction mode runs no reset query: nothing may rely on one
server_reset_query =
auth_type = trust
auth_file = {folder / "users.txt"}
admin_users = {user}
; a client waiting this long for a server connection gets an error instead of hanging
query_wait_timeout = 20
"""
    )
    command = [str(PGBOUNCER)]
    if os.geteuid() == 0:
        # PgBouncer refuses to run as root. `-u` drops to another user once the config
        # and auth file are read; the server's own user can reach the server's socket,
        # and the log goes to a file opened here, not by PgBouncer.
        command += ["-u", pwd.getpwuid(os.stat(socket_dir).st_uid).pw_name]
    command.append(str(config))
    log = folder / "pgbouncer.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 10
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.05)
            yield Pooler(direct=direct, port=port, user=user, log=log)
        finally:
            stop_process(process)


async def reachable(url: str) -> None:
    """One query through the pooler, so that a pooler that cannot reach the server fails
    here and not inside askbase."""
    conn = await asyncpg.connect(url, statement_cache_size=0, timeout=10)
    try:
        assert await conn.fetchval("select 1") == 1
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def pooler(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pooler]:
    folder = tmp_path_factory.mktemp("pgbouncer")
    server = embedded_postgres(folder)
    try:
        with pgbouncer(server.get_uri(), folder / "pgbouncer", {"askbase": "postgres"}) as running:
            await reachable(running.url())
            yield running
    finally:
        server._cleanup()


# --- askbase through it ---------------------------------------------------------------


@dataclass
class Served:
    url: str
    log: Path


TRANSACTION_MODE = {
    "DATABASE_POOL_MODE": "transaction",
    "RATE_LIMIT_BACKEND": "postgres",  # more traffic through the pooler, and shared buckets
    "LOG_JSON": "true",
}


@pytest.fixture(scope="module")
def served(pooler: Pooler, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`askbase serve` with only the pooler's URL: it migrates through it, too."""
    data_dir = tmp_path_factory.mktemp("askbase")
    with askbase_process(
        "serve",
        data_dir,
        DATABASE_URL=pooler.url(),
        RATE_LIMIT_IP_PER_MINUTE="1000000",
        RATE_LIMIT_WEBSITE_PER_MINUTE="1000000",
        **TRANSACTION_MODE,
    ) as url:
        yield Served(url=url, log=data_dir / "serve.log")


@asynccontextmanager
async def client(url: str) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield Api(base_url=url, state=None, http=http)  # type: ignore[arg-type]


@pytest.fixture
async def pooled(served: Served) -> AsyncIterator[Api]:
    async with client(served.url) as api:
        yield api


@dataclass
class Site:
    owner: str
    website_id: str
    faq_id: str  # FAQ, uploaded when the site was made


@pytest.fixture(scope="module")
async def site(served: Served) -> Site:
    owner = owner_token()
    async with client(served.url) as api:
        website_id = await create_site(api, owner)
        uploaded = await upload(api, owner, website_id, "faq.md", FAQ)
        assert "errors" not in uploaded, uploaded
    return Site(owner, website_id, uploaded["data"]["uploadDocument"]["id"])


async def create_site(api: Api, owner: str) -> str:
    data = await api.data(
        CREATE_SITE,
        {"i": {"domain": f"shop-{uuid.uuid4().hex[:8]}.example", "allowedOrigins": [ORIGIN]}},
        token=owner,
    )
    website_id: str = data["createWebsite"]["id"]
    return website_id


async def visitor_chat(api: Api, website_id: str, question: str) -> list[dict[str, Any]]:
    """A visitor's session, chat and streamed answer; the answer's events."""
    session = (await api.data(START_SESSION, {"id": website_id}, origin=ORIGIN))["startSession"]
    chat_id = await new_chat(api, session["token"], website_id)
    async with connected(api, "graphql-transport-ws", session["token"]) as ws:
        await start(ws, "graphql-transport-ws", chat_id, question)
        got = await events(ws)
    kinds = [e["__typename"] for e in got]
    assert kinds[0] == "SourcesFound" and kinds[-1] == "MessageDone", kinds
    assert set(kinds[1:-1]) == {"TokenDelta"}, kinds
    answer = got[-1]["message"]
    assert answer["status"] == "COMPLETE"
    assert answer["content"] == "".join(e["text"] for e in got[1:-1])
    stored = (await api.data(MESSAGES, {"c": chat_id}, token=session["token"], origin=ORIGIN))[
        "messages"
    ]["nodes"]
    assert stored == [
        {"role": "USER", "content": question, "status": "COMPLETE"},
        {"role": "ASSISTANT", "content": answer["content"], "status": "COMPLETE"},
    ]
    return got


async def concurrent_chats(api: Api, website_id: str, count: int) -> list[str]:
    """`count` visitors chatting at once; each answer's text, checked against its question."""
    asked = [QUESTIONS[i % len(QUESTIONS)] for i in range(count)]
    answers = await asyncio.wait_for(
        asyncio.gather(*(visitor_chat(api, website_id, q) for q, _ in asked)), 60
    )
    texts = [got[-1]["message"]["content"] for got in answers]
    for (question, expected), text in zip(asked, texts, strict=True):
        assert expected in text, (question, text)
    return texts


def log_problems(log: str, mentioning: str | None = None) -> list[str]:
    """Warnings, errors and tracebacks of an askbase log (JSON lines, and whatever else
    reached stderr), any mention of prepared statements, and any line that names
    `mentioning`; each as one short line, in the log's order."""
    problems = []
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            errors = [
                f"{e.get('exc_type')}: {' '.join(str(e.get('exc_value')).split())[:300]}"
                for e in record.get("exception") or []
            ]
            hint = [str(record["hint"])] if record.get("hint") else []
            summary = " ".join([str(record.get("level")), str(record.get("event")), *hint, *errors])
            alarming = record.get("level") in ("warning", "error", "critical") or bool(errors)
        else:
            summary = line
            alarming = any(word in line for word in ("Traceback", "Error", "ERROR"))
        named = mentioning is not None and mentioning in summary
        if alarming or named or "prepared statement" in summary:
            problems.append(summary)
    return problems


def pooler_problems(log: str) -> list[str]:
    """PgBouncer's own complaints: warnings, errors, clients that waited too long."""
    alarms = (" WARNING ", " ERROR ", " FATAL ", "query_wait_timeout", "unexpected eof")
    return [line for line in log.splitlines() if any(a in line for a in alarms)]


# --- the tests ------------------------------------------------------------------------


async def test_migrations_run_through_the_pooler(
    pooled: Api, served: Served, pooler: Pooler
) -> None:
    health = await pooled.http.get("/health/db")
    assert health.status_code == 200, health.text
    conn = await asyncpg.connect(pooler.direct)
    try:
        applied = await conn.fetch("select version from public.askbase_migrations")
    finally:
        await conn.close()
    assert sorted(r["version"] for r in applied) == [m.version for m in load_migrations()]


async def test_uploads_are_ingested_and_their_status_streams(pooled: Api, site: Site) -> None:
    """Workers and documentStatus have no LISTEN/NOTIFY here: they poll."""
    uploaded = await upload(pooled, site.owner, site.website_id, "more.md", b"# Hours\n\nOpen 9-5.")
    assert "errors" not in uploaded, uploaded
    document_id = uploaded["data"]["uploadDocument"]["id"]
    statuses: list[str] = []
    query = "subscription($d: ID!) { documentStatus(documentId: $d) { status chunkCount } }"
    async with connected(pooled, "graphql-transport-ws", site.owner) as ws:
        payload = {"query": query, "variables": {"d": document_id}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        while True:
            message = await asyncio.wait_for(recv(ws), 30)
            if message["type"] == "complete":
                break
            assert message["type"] == "next" and "errors" not in message["payload"], message
            statuses.append(message["payload"]["data"]["documentStatus"]["status"])
    assert statuses and statuses[-1] == "READY", statuses
    order = ["PENDING", "PROCESSING", "READY"]
    assert statuses == sorted(set(statuses), key=order.index), statuses
    for doc_id in (document_id, site.faq_id):
        doc = await wait_until_done(pooled, site.owner, doc_id, within=30)
        assert doc["status"] == "READY" and doc["chunkCount"] > 0, doc


async def test_chats_stream_and_are_stored(pooled: Api, site: Site) -> None:
    assert (await wait_until_done(pooled, site.owner, site.faq_id, within=30))["status"] == "READY"
    got = await visitor_chat(pooled, site.website_id, "How long are returns accepted?")
    assert got[0]["sources"][0]["documentId"] == site.faq_id
    assert len(got) > 3 and "thirty days" in got[-1]["message"]["content"]
    await concurrent_chats(pooled, site.website_id, 8)


async def test_the_postgres_rate_limit_holds(pooler: Pooler, site: Site, tmp_path: Path) -> None:
    with askbase_process(
        "serve",
        tmp_path / "limited",
        DATABASE_URL=pooler.url(),
        INGEST_WORKERS="0",
        TRUSTED_PROXY_HEADER="x-client-ip",
        TRUSTED_PROXY_CIDRS="127.0.0.1",
        RATE_LIMIT_IP_PER_MINUTE="3",
        **TRANSACTION_MODE,
    ) as url:
        async with client(url) as api:
            ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"  # buckets persist
            bodies = await asyncio.gather(
                *(
                    api.gql(
                        START_SESSION,
                        {"id": site.website_id},
                        origin=ORIGIN,
                        headers={"x-client-ip": ip},
                    )
                    for _ in range(8)
                )
            )
    outcomes = [b["errors"][0]["extensions"]["code"] if "errors" in b else "ok" for b in bodies]
    assert sorted(outcomes) == ["RATE_LIMITED"] * 5 + ["ok"] * 3, outcomes
    assert not log_problems((tmp_path / "limited" / "serve.log").read_text())


INSPECT = """
select pg_backend_pid() as pid,
       (select count(*) from pg_prepared_statements) as prepared,
       (select count(*) from pg_listening_channels()) as listening,
       (select count(*) from pg_cursors where name <> '') as cursors,
       (select count(*) from pg_locks
         where locktype = 'advisory' and pid = pg_backend_pid()) as advisory_locks,
       (select count(*) from pg_class where relnamespace = pg_my_temp_schema()) as temp_tables,
       (select coalesce(array_agg(name || '=' || setting order by name), '{}') from pg_settings
         where source = 'session' and setting is distinct from reset_val
           and name <> all($1::text[])) as session_settings,
       current_user = session_user as own_role,
       coalesce(current_setting('request.jwt.claims', true), '') as claims
"""


async def test_no_session_state_is_left_on_server_connections(
    pooled: Api, site: Site, pooler: Pooler, served: Served
) -> None:
    """Every server connection PgBouncer holds, looked at from inside: after askbase's
    work none carries a prepared statement, a LISTEN, a cursor, an advisory lock, a
    temporary table, a session-level setting or role, or request claims."""
    assert (await wait_until_done(pooled, site.owner, site.faq_id, within=30))["status"] == "READY"
    await concurrent_chats(pooled, site.website_id, 4)  # some work, even when run alone

    clients = [c for c in pooler.admin("SHOW CLIENTS") if c["database"] == "askbase"]
    servers = [s for s in pooler.admin("SHOW SERVERS") if s["database"] == "askbase"]
    assert len(servers) <= POOL_SIZE < len(clients), (servers, clients)  # they interleave

    # As many transactions at once as the pool has server connections: each gets its own.
    inspectors = [
        await asyncpg.connect(pooler.url(), statement_cache_size=0) for _ in range(POOL_SIZE)
    ]
    direct = await asyncpg.connect(pooler.direct)
    try:
        transactions = [conn.transaction() for conn in inspectors]
        await asyncio.wait_for(asyncio.gather(*(t.start() for t in transactions)), 20)
        seen: list[asyncpg.Record] = []
        for conn in inspectors:
            row = await conn.fetchrow(INSPECT, TRACKED_PARAMETERS)
            assert row is not None
            seen.append(row)
        backends = await direct.fetch(
            "select pid, state from pg_stat_activity where datname = current_database() "
            "and backend_type = 'client backend' and pid <> pg_backend_pid()"
        )
        advisory = await direct.fetchval(
            "select count(*) from pg_locks where locktype = 'advisory'"
        )
        for transaction in transactions:
            await transaction.rollback()
    finally:
        await direct.close()
        for conn in inspectors:
            await conn.close()

    # The inspected connections are all the server connections there are.
    assert sorted(r["pid"] for r in seen) == sorted(b["pid"] for b in backends), backends
    clean = {
        "prepared": 0,
        "listening": 0,
        "cursors": 0,
        "advisory_locks": 0,
        "temp_tables": 0,
        "session_settings": [],
        "own_role": True,
        "claims": "",
    }
    left = {row["pid"]: {k: row[k] for k in clean if row[k] != clean[k]} for row in seen}
    assert not any(left.values()), left
    assert advisory == 0
    assert not log_problems(served.log.read_text())
    assert not pooler_problems(pooler.log.read_text())


async def test_without_the_transaction_mode_setting_it_works_or_says_why(
    pooler: Pooler, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DATABASE_POOL_MODE left at its default behind the same kind of pooler (its own
    PgBouncer and database, so that whatever this leaves behind stays here). Either askbase
    copes by itself, or its first complaint names DATABASE_POOL_MODE; a silent failure or
    an unexplained traceback fails."""
    monkeypatch.delenv("DATABASE_POOL_MODE", raising=False)
    direct = await asyncpg.connect(pooler.direct)
    try:
        await direct.execute("create database askbase_default_mode")
    finally:
        await direct.close()
    log_path = tmp_path / "askbase" / "serve.log"
    failure: BaseException | None = None
    with pgbouncer(
        pooler.direct, tmp_path / "pgbouncer", {"askbase": "askbase_default_mode"}
    ) as own:
        await reachable(own.url())
        try:
            with askbase_process(
                "serve",
                tmp_path / "askbase",
                DATABASE_URL=own.url(),
                RATE_LIMIT_BACKEND="postgres",
                RATE_LIMIT_IP_PER_MINUTE="1000000",
                RATE_LIMIT_WEBSITE_PER_MINUTE="1000000",
                LOG_JSON="true",
            ) as url:
                async with client(url) as api:
                    try:
                        await asyncio.wait_for(default_mode_work(api), 60)
                    except Exception as error:  # classified below
                        failure = error
        except AssertionError as error:  # askbase_process: serve exited during start-up
            failure = error
    log = log_path.read_text()
    problems = log_problems(log, mentioning="DATABASE_POOL_MODE")
    outcome = "works" if failure is None and not problems else f"fails: {failure!r}"
    print(f"askbase behind PgBouncer without DATABASE_POOL_MODE: {outcome}")
    if failure is None and not problems:
        return
    explained = [p for p in problems if "DATABASE_POOL_MODE" in p]
    assert explained, (
        "askbase broke behind a transaction-mode pooler without naming DATABASE_POOL_MODE: "
        f"{failure!r}\n" + "\n".join(problems[:5] or log.splitlines()[-20:])
    )
    assert problems[0] in explained, (
        "the first complaint does not name DATABASE_POOL_MODE:\n" + "\n".join(problems[:5])
    )


async def default_mode_work(api: Api) -> None:
    """The same work as above: upload, ingestion, concurrent chats and their messages."""
    owner = owner_token()
    website_id = await create_site(api, owner)
    uploaded = await upload(api, owner, website_id, "faq.md", FAQ)
    assert "errors" not in uploaded, uploaded
    document_id = uploaded["data"]["uploadDocument"]["id"]
    assert (await wait_until_done(api, owner, document_id, within=30))["status"] == "READY"
    await concurrent_chats(api, website_id, 8)
    doc = (await api.data(DOCUMENT, {"d": document_id}, token=owner))["document"]
    assert doc["chunkCount"] > 0
