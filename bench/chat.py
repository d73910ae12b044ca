"""Streaming answers: time to first token, token relay throughput, many open streams.

Prints JSON. Run: .venv/bin/python bench/chat.py [--streams N] [--relay-tokens N]

`askbase serve` runs in its own process on an embedded PostgreSQL; clients are this
process, over real WebSockets (graphql-transport-ws).

- ttft: the extractive answerer (no model time), so the time from `subscribe` to the
  first TokenDelta is what the server adds: checks, two message rows, the query
  embedding, hybrid retrieval, SourcesFound. At 1, 10 and 50 concurrent chats, each
  with a question of its own; and 50 asking the same question (its vector is cached).
- relay: an OpenAI-compatible peer in this process streams N tokens as fast as it can;
  tokens/s through chatStream vs a bare Starlette WebSocket endpoint (same process
  kind, uvicorn) that relays the same peer's stream with the same SDK.
- streams: N subscriptions open at once on one server, each receiving a paced stream
  from the peer; tokens lost (expected minus received) and the server's RSS growth per
  connection.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import ORIGIN, askbase_server, gql, token  # noqa: E402
from bench.stats import percentiles  # noqa: E402

STREAM = """
subscription($c: ID!, $m: String!) {
  chatStream(chatId: $c, message: $m) {
    __typename ... on TokenDelta { text } ... on ChatFailed { code detail }
  }
}"""
DOC = (
    "Shipping takes three to five working days within the country. "
    "Refunds are paid within five working days of the return reaching us. "
    "Gift cards cannot be refunded. Orders over 50 euros ship for free."
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def peer_app(tokens: int, pace: float) -> Starlette:
    """An OpenAI-compatible chat endpoint streaming `tokens` one-word deltas."""

    async def completions(request: Request) -> StreamingResponse:
        body = await request.json()

        async def chunks() -> AsyncIterator[bytes]:
            for i in range(tokens):
                chunk = {
                    "id": "bench",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "delta": {"content": f" t{i}"}}],
                }
                yield f"data: {json.dumps(chunk)}\n\n".encode()
                if pace:
                    await asyncio.sleep(pace)
            yield b"data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


def raw_relay_app(peer_url: str) -> Starlette:
    """The baseline: a bare WebSocket endpoint relaying the peer's tokens, no GraphQL."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(api_key="bench", base_url=peer_url)

    async def relay(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()
        stream = await client.chat.completions.create(
            model="bench", messages=[{"role": "user", "content": "go"}], stream=True
        )
        async for chunk in stream:
            for choice in chunk.choices:
                if choice.delta.content:
                    await ws.send_text(json.dumps({"text": choice.delta.content}))
        await ws.send_text(json.dumps({"done": True}))
        await ws.close()

    return Starlette(routes=[WebSocketRoute("/ws", relay)])


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[int]:
    port = free_port()
    config = uvicorn.Config(app, port=port, log_level="warning", ws_ping_interval=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            raise RuntimeError("a bench server did not start")
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


class Client:
    def __init__(self, url: str, owner: dict[str, str], website: str) -> None:
        self.url = url
        self.ws_url = url.replace("http", "ws") + "/graphql"
        self.owner = owner
        self.website = website

    async def chat(self, http: httpx.AsyncClient) -> str:
        data = await gql(
            http,
            "mutation($w: ID!) { createChat(websiteId: $w) { id } }",
            self.owner,
            w=self.website,
        )
        chat_id: str = data["createChat"]["id"]
        return chat_id

    async def ask(self, chat_id: str, question: str) -> tuple[float, int, float]:
        """(seconds to the first token, tokens received, seconds to the end).

        Tokens are counted in the text (the peer's are one word each), since the server
        merges deltas that arrive while the previous one is being sent.
        """
        async with websockets.connect(
            self.ws_url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            max_size=None,
        ) as ws:
            auth = {"authorization": self.owner["authorization"]}
            init = {"type": "connection_init", "payload": auth}
            await ws.send(json.dumps(init))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            payload = {"query": STREAM, "variables": {"c": chat_id, "m": question}}
            started = time.perf_counter()
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            first = 0.0
            tokens = 0
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "complete":
                    return first, tokens, time.perf_counter() - started
                if message["type"] == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                    continue
                event = message["payload"]["data"]["chatStream"]
                if event["__typename"] == "ChatFailed":
                    raise RuntimeError(event)
                if event["__typename"] == "TokenDelta":
                    tokens += len(event["text"].split())  # deltas may carry several tokens
                    if not first:
                        first = time.perf_counter() - started


async def setup(url: str) -> Client:
    owner = {"authorization": f"Bearer {token(uuid.uuid4())}"}
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        website = (
            await gql(
                http,
                "mutation($i: CreateWebsiteInput!) { createWebsite(input: $i) { id } }",
                owner,
                i={"domain": "chat.example", "allowedOrigins": [ORIGIN]},
            )
        )["createWebsite"]["id"]
        doc = (
            await gql(
                http,
                "mutation($w: ID!, $t: String!) "
                '{ addDocumentText(websiteId: $w, filename: "faq.txt", text: $t) { id } }',
                owner,
                w=website,
                t=DOC,
            )
        )["addDocumentText"]["id"]
        for _ in range(600):
            status = (
                await gql(http, "query($d: ID!) { document(id: $d) { status } }", owner, d=doc)
            )["document"]["status"]
            if status == "READY":
                break
            await asyncio.sleep(0.1)
    return Client(url, owner, website)


REPEATED = "How long do refunds take?"


async def ttft(url: str) -> dict[str, Any]:
    """Every question is new (the server keeps recent questions' vectors), except in
    `repeated_question_50`: 50 visitors clicking the same suggested question."""
    client = await setup(url)
    results: dict[str, Any] = {}
    asked = itertools.count()

    def question() -> str:
        return f"{REPEATED} ({next(asked)})"

    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        for _ in range(5):  # warm-up
            await client.ask(await client.chat(http), question())
        for name, concurrency, same in (
            ("concurrency_1", 1, False),
            ("concurrency_10", 10, False),
            ("concurrency_50", 50, False),
            ("repeated_question_50", 50, True),
        ):
            rounds = max(3, 200 // concurrency)
            firsts: list[float] = []
            for _ in range(rounds):
                chats = [await client.chat(http) for _ in range(concurrency)]
                got = await asyncio.gather(
                    *(client.ask(c, REPEATED if same else question()) for c in chats)
                )
                firsts += [g[0] for g in got]
            results[name] = {**percentiles(firsts), "answers": len(firsts)}
    return results


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def main(streams: int, relay_tokens: int, parts: list[str]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if "ttft" in parts:
            with askbase_server(Path(tmp) / "extractive") as url:
                figures["ttft_extractive"] = await ttft(url)
        if "relay" in parts:
            figures["relay"] = await relay(Path(tmp), relay_tokens)
        if "streams" in parts:
            figures["streams"] = await many_streams(Path(tmp), streams)
    return figures


async def relay(tmp: Path, relay_tokens: int) -> dict[str, Any]:
    async with serving(peer_app(relay_tokens, 0)) as fast_peer:
        peer = f"http://127.0.0.1:{fast_peer}/v1"
        env = {"LLM_PROVIDER": "openai", "LLM_BASE_URL": peer, "LLM_MAX_TOKENS": "32000"}
        with askbase_server(tmp / "relay", env) as url:
            client = await setup(url)
            async with httpx.AsyncClient(base_url=url, timeout=60) as http:
                runs = []
                for _ in range(3):
                    _, count, seconds = await client.ask(await client.chat(http), "refunds?")
                    assert count == relay_tokens, count
                    runs.append(count / seconds)
        async with serving(raw_relay_app(peer)) as raw_port:
            raw_runs = []
            for _ in range(3):
                raw_url = f"ws://127.0.0.1:{raw_port}/ws"
                async with websockets.connect(raw_url, max_size=None) as ws:
                    started = time.perf_counter()
                    await ws.send("go")
                    count = 0
                    while "done" not in json.loads(await ws.recv()):
                        count += 1
                    raw_runs.append(count / (time.perf_counter() - started))
        best, raw_best = max(runs), max(raw_runs)
        return {
            "tokens": relay_tokens,
            "chat_stream_tokens_per_s": round(best),
            "raw_websocket_tokens_per_s": round(raw_best),
            "ratio": round(best / raw_best, 3),
        }


async def many_streams(tmp: Path, streams: int) -> dict[str, Any]:
    async with serving(peer_app(40, 0.25)) as paced_peer:
        peer = f"http://127.0.0.1:{paced_peer}/v1"
        env = {"LLM_PROVIDER": "openai", "LLM_BASE_URL": peer, "DB_POOL_MAX": "20"}
        pids: list[int] = []
        with askbase_server(tmp / "streams", env, pids) as url:
            client = await setup(url)
            async with httpx.AsyncClient(base_url=url, timeout=120) as http:
                chats = [await client.chat(http) for _ in range(streams)]
                before = rss_kb(pids[0])
                peak = before
                asks = asyncio.gather(
                    *(client.ask(c, "refunds?") for c in chats), return_exceptions=True
                )
                while not asks.done():
                    peak = max(peak, rss_kb(pids[0]))
                    await asyncio.sleep(0.2)
                got = asks.result()
            failures = [g for g in got if isinstance(g, BaseException)]
            received = sum(g[1] for g in got if not isinstance(g, BaseException))
            return {
                "subscriptions": streams,
                "failed": len(failures),
                "first_failure": repr(failures[0]) if failures else None,
                "tokens_expected": 40 * streams,
                "tokens_lost": 40 * streams - received,
                "server_rss_before_mb": round(before / 1024, 1),
                "server_rss_peak_mb": round(peak / 1024, 1),
                "rss_per_subscription_kb": round((peak - before) / streams, 1),
            }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--relay-tokens", type=int, default=5000)
    parser.add_argument("--parts", nargs="+", default=["ttft", "relay", "streams"])
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.streams, args.relay_tokens, args.parts)), indent=2))
