"""Answers under overload: admission control, fairness, and chat before ingestion.

Prints JSON. Run: .venv/bin/python bench/overload.py [--seconds S] [--rate R]

`askbase serve` runs in its own process on an embedded PostgreSQL with its default
admission settings; questions arrive open-loop (Poisson) over real WebSockets.

1. The sustainable rate: closed loops asking back to back for a while; answers/s.
2. For 1x, 2x and 4x that rate, with and without a concurrent ingestion of about 1,000
   chunks: a busy website gets the offered load, a quiet one 0.5 questions/s. For each:
   admitted answers' time to first token (p50/p99), the refused fraction, goodput
   (answers completed per second), and the quiet website's p99.
Every question ends as admitted (it streamed), refused (UNAVAILABLE, with retryAfter)
or failed (anything else, which should not happen): nothing is lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import askbase_server, gql  # noqa: E402
from bench.chat import Client, setup  # noqa: E402
from bench.stats import percentiles  # noqa: E402

STREAM = """
subscription($c: ID!, $m: String!) {
  chatStream(chatId: $c, message: $m) {
    __typename ... on TokenDelta { text } ... on ChatFailed { code retryAfter }
  }
}"""
QUIET_RATE = 0.5


async def ask(client: Client, chat_id: str, question: str) -> tuple[str, float]:
    """('admitted', seconds to the first token) | ('refused', 0) | ('failed', 0)."""
    async with websockets.connect(
        client.ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        max_size=None,
    ) as ws:
        auth = {"authorization": client.owner["authorization"]}
        await ws.send(json.dumps({"type": "connection_init", "payload": auth}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        payload = {"query": STREAM, "variables": {"c": chat_id, "m": question}}
        started = time.perf_counter()
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        first = 0.0
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "complete":
                return ("admitted", first) if first else ("failed", 0.0)
            if message["type"] == "error":
                codes = {e.get("extensions", {}).get("code") for e in message["payload"]}
                return ("refused", 0.0) if codes == {"UNAVAILABLE"} else ("failed", 0.0)
            if message["type"] != "next":
                continue
            if message["payload"].get("errors"):
                codes = {e["extensions"]["code"] for e in message["payload"]["errors"]}
                return ("refused", 0.0) if codes == {"UNAVAILABLE"} else ("failed", 0.0)
            event = message["payload"]["data"]["chatStream"]
            if event["__typename"] == "ChatFailed":
                return ("refused", 0.0) if event["code"] == "UNAVAILABLE" else ("failed", 0.0)
            if event["__typename"] == "TokenDelta" and not first:
                first = time.perf_counter() - started


async def chats(client: Client, count: int) -> list[str]:
    async with httpx.AsyncClient(base_url=client.url, timeout=60) as http:
        return [await client.chat(http) for _ in range(count)]


async def sustainable_rate(client: Client, seconds: float, loops: int = 8) -> float:
    done = 0
    pool = await chats(client, 400)
    deadline = time.monotonic() + seconds

    async def loop(i: int) -> None:
        nonlocal done
        n = 0
        while time.monotonic() < deadline:
            outcome, _ = await ask(client, pool[(i * 50 + n) % len(pool)], f"refunds {i} {n}?")
            done += outcome == "admitted"
            n += 1

    started = time.monotonic()
    await asyncio.gather(*(loop(i) for i in range(loops)))
    return done / (time.monotonic() - started)


async def offered(client: Client, rate: float, seconds: float, label: str) -> list[Any]:
    """Poisson arrivals at `rate` for `seconds`; each question's outcome and its end."""
    pool = await chats(client, max(10, int(rate * seconds * 1.5) + 10))
    tasks: list[asyncio.Task[tuple[str, float]]] = []
    deadline = time.monotonic() + seconds
    rng = random.Random(label)
    n = 0
    while time.monotonic() < deadline:
        question = f"How long do refunds take? ({label} {n})"
        tasks.append(asyncio.create_task(ask(client, pool[n % len(pool)], question)))
        n += 1
        await asyncio.sleep(rng.expovariate(rate))
    return list(await asyncio.gather(*tasks, return_exceptions=True))


def summary(results: list[Any], seconds: float) -> dict[str, Any]:
    admitted = [r[1] for r in results if isinstance(r, tuple) and r[0] == "admitted"]
    refused = sum(1 for r in results if isinstance(r, tuple) and r[0] == "refused")
    failed = len(results) - len(admitted) - refused
    return {
        "questions": len(results),
        "admitted_ttft": percentiles(admitted) if admitted else None,
        "refused_fraction": round(refused / len(results), 3) if results else 0.0,
        "failed": failed,
        "goodput_per_s": round(len(admitted) / seconds, 2),
    }


async def ingest_big(client: Client, chunks: int) -> None:
    """About `chunks` chunks of text, as two documents (the request size limit)."""
    words = [f"word{i % 997}" for i in range(150)]
    paragraph = " ".join(words) + "."
    async with httpx.AsyncClient(base_url=client.url, timeout=120) as http:
        for part in range(2):
            text = "\n\n".join(f"# Section {i}\n\n{paragraph}" for i in range(chunks // 2))
            await gql(
                http,
                "mutation($w: ID!, $t: String!, $f: String!) "
                "{ addDocumentText(websiteId: $w, filename: $f, text: $t) { id } }",
                client.owner,
                w=client.website,
                t=text,
                f=f"big-{part}-{uuid.uuid4().hex[:6]}.md",
            )


async def main(seconds: float, rate: float | None) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        # Every simulated visitor comes from 127.0.0.1: no per-IP socket cap here.
        askbase_server(
            Path(tmp), {"MAX_REQUEST_BYTES": "2000000", "WS_MAX_CONNECTIONS_PER_IP": "100000"}
        ) as url,
    ):
        busy, quiet, big = await setup(url), await setup(url), await setup(url)
        capacity = rate or await sustainable_rate(busy, seconds)
        runs: dict[str, Any] = {"sustainable_answers_per_s": round(capacity, 2)}
        for ingesting in (False, True):
            for multiple in (1, 2, 4):
                label = f"{multiple}x" + ("_with_ingestion" if ingesting else "")
                ingestion = asyncio.create_task(ingest_big(big, 1000)) if ingesting else None
                if ingestion is not None:
                    await asyncio.sleep(1)  # the upload is stored; embedding runs
                loud, calm = await asyncio.gather(
                    offered(busy, capacity * multiple, seconds, label),
                    offered(quiet, QUIET_RATE, seconds, label + "-quiet"),
                )
                if ingestion is not None:
                    await ingestion
                runs[label] = {
                    "offered_per_s": round(capacity * multiple, 2),
                    "busy_website": summary(loud, seconds),
                    "quiet_website": summary(calm, seconds),
                }
        return runs


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15, help="length of each run")
    parser.add_argument("--rate", type=float, help="skip measuring the sustainable rate")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.seconds, args.rate)), indent=2))
