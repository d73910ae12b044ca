"""A request that fails inside a transaction leaves only structured lines in the server
log: its transaction is rolled back before the connection goes back to the pool (asyncpg
would log "Resetting connection with an active transaction"), and what libraries log
through the standard library's `logging` is rendered by structlog with the request id."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import askbase_process, owner_token

RESET_WARNING = "Resetting connection with an active transaction"


@pytest.mark.usefixtures("admin")  # the database is migrated
async def test_a_transaction_cancelled_again_while_it_rolls_back_is_not_left_open(
    pg_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    """graphql-core cancels the siblings of a failed field, and cancels them again when
    an enclosing field fails too: the second cancellation lands while the rollback waits
    for the first one's statement. The connection must not reach the pool with its
    transaction open."""
    from askbase.database.pool import Database, create_pool

    db = Database(await create_pool(pg_dsn, min_size=1, max_size=1))
    try:
        running = asyncio.Event()

        async def request() -> None:
            async with db.service() as conn:
                running.set()
                await conn.execute("select pg_sleep(600)")

        task = asyncio.create_task(request())
        await running.wait()  # the statement is on its way to the server
        task.cancel()
        await asyncio.sleep(0)  # the request starts cancelling its statement...
        task.cancel()  # ...and is cancelled again while it waits for that
        with pytest.raises(asyncio.CancelledError):
            await task
        async with db.pool.acquire() as conn:  # the same connection, or its replacement
            assert not conn.is_in_transaction()
            assert await conn.fetchval("select 1") == 1
        async with db.service() as conn:
            assert await conn.fetchval("select 1") == 1
    finally:
        await db.close()
    assert not [r for r in caplog.records if RESET_WARNING in r.getMessage()]


def test_library_records_are_structured_lines_with_the_request_id() -> None:
    """asyncpg reports through the event loop's exception handler (asyncio's logger),
    uvicorn and Strawberry through `logging`: in a child process, so that its logging
    configuration stays its own."""
    script = textwrap.dedent(
        """
        import asyncio, logging
        from askbase.app.observability.logging import RequestIdMiddleware, configure_logging

        configure_logging(json=True, level="INFO")
        configure_logging(json=True, level="INFO")  # again: still one line per record

        async def app(scope, receive, send):
            asyncio.get_running_loop().call_exception_handler({"message": "from asyncpg"})
            logging.getLogger("asyncpg.pool").warning("pool %s", "warning")
            try:
                raise RuntimeError("boom")
            except RuntimeError:
                logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
            logging.getLogger("httpx").info("below the root logger's level: not shown")
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        async def main():
            async def receive():
                return {"type": "http.request", "body": b""}
            async def send(message):
                pass
            scope = {"type": "http", "method": "GET", "path": "/x",
                     "headers": [(b"x-request-id", b"abc-123")]}
            await RequestIdMiddleware(app)(scope, receive, send)

        asyncio.run(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    lines = [json.loads(line) for line in result.stderr.strip().splitlines()]
    assert [(line["event"], line.get("logger")) for line in lines] == [
        ("from asyncpg", "asyncio"),
        ("pool warning", "asyncpg.pool"),
        ("Exception in ASGI application", "uvicorn.error"),
        ("request", None),
    ]
    assert all(line["request_id"] == "abc-123" for line in lines)
    assert [line["level"] for line in lines] == ["error", "warning", "error", "info"]
    assert lines[2]["exception"][0]["exc_type"] == "RuntimeError"


CREATE_WEBSITE = "mutation($i: CreateWebsiteInput!) { createWebsite(input: $i) { id } }"


def test_requests_that_fail_inside_transactions_log_only_structured_lines(
    tmp_path: Path,
) -> None:
    """`askbase serve` with LOG_JSON: a duplicate domain (a unique violation, then
    BAD_USER_INPUT inside the transaction), a website that is not there (NOT_FOUND inside
    it) and several such fields failing at once (graphql-core cancels the siblings)."""
    headers = {"authorization": f"Bearer {owner_token()}"}
    failing = " ".join(
        f'f{i}: documents(websiteId: "{uuid.uuid4()}") {{ nodes {{ id }} }}' for i in range(4)
    )
    request_ids = []
    with (
        askbase_process("serve", tmp_path, LOG_JSON="true") as url,
        httpx.Client(base_url=url, headers=headers, timeout=30) as http,
    ):

        def post(query: str, variables: dict[str, object] | None = None) -> None:
            errors = http.post("/graphql", json={"query": query, "variables": variables}).json()
            request_ids.append(errors["errors"][0]["extensions"]["requestId"])

        website = {"i": {"domain": "twice.example", "allowedOrigins": []}}
        assert http.post("/graphql", json={"query": CREATE_WEBSITE, "variables": website})
        post(CREATE_WEBSITE, website)
        post(f'mutation {{ deleteWebsite(id: "{uuid.uuid4()}") }}')
        for _ in range(5):
            post(f"{{ {failing} }}")
    log = (tmp_path / "serve.log").read_text()
    assert RESET_WARNING not in log
    # The CLI's own start-up lines are for people ("askbase: ..."); every other is JSON.
    lines = [json.loads(line) for line in log.splitlines() if not line.startswith("askbase: ")]
    assert all({"event", "level", "timestamp"} <= line.keys() for line in lines)
    errors = [line for line in lines if line["event"] == "graphql error"]
    assert {line["request_id"] for line in errors} == set(request_ids)
