"""Hostile clients against a running askbase: does the server stay responsive?

First the validation time of the issue's attack (a 5 KB query of ~480 fields repeated
under a random alias, which misses the validation cache every time), in this process.
Then `askbase serve` in its own process: /health latency alone, and again while 20
clients (in 2 processes of their own) send the issue's hostile inputs for a bounded
time: that query, bodies that are not request objects, invalid UTF-8, JSON nested
thousands of levels, 5,000-digit numbers, broken multipart maps, WebSocket frames that
are not messages on both protocols, repeated connection_init. Target: /health p99 under
50 ms. Prints JSON, with the server log's alarm lines (there should be none).

Run: .venv/bin/python bench/abuse.py [--seconds 20] [--clients 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import statistics
import string
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fuzz import LOG_ALARMS, serving  # noqa: E402
from bench.stats import percentiles  # noqa: E402


def hostile_query(shape: int | None = None) -> str:
    """The issue's attack, under a fresh random alias each time (so no cache helps): 480
    repeated leaf fields (5.3 KB), or 330 repeated fields with a selection (7.3 KB)."""
    alias = "".join(random.choices(string.ascii_lowercase, k=6))
    if (random.randrange(2) if shape is None else shape) == 0:
        return "{ health { " + f"{alias}: ok " * 480 + "} }"
    return "{ " + f"{alias}: health {{ ok }} " * 330 + "}"


async def validation_ms(rounds: int = 20) -> dict[str, Any]:
    """The attack through the schema alone (parse, limits, validation), as served."""
    from askbase.schema.build import build_schema

    schema = build_schema()
    found = {}
    for shape in (0, 1):
        await schema.execute(hostile_query(shape))
        samples = []
        for _ in range(rounds):
            query = hostile_query(shape)
            started = time.perf_counter()
            result = await schema.execute(query)
            samples.append(time.perf_counter() - started)
        found[query[:30] + "..."] = {
            "query_bytes": len(query),
            **percentiles(samples),
            "max_ms": round(max(samples) * 1000, 2),
            "answer": result.errors[0].message if result.errors else "no error",
        }
    return found


BODIES = [
    b'"hello"',
    b"null",
    b"42",
    b'{"query": "{ health { ok } }", "variables": {"x": "\xff\xfe"}}',
    b'{"query": "{ health { ok } }", "variables": {"x": ' + b"[" * 3000 + b"]" * 3000 + b"}}",
    b'{"query": "{ health { ok } }", "variables": {"n": ' + b"9" * 5000 + b"}}",
]
FRAMES = ["[1,2]", "5", '"str"', '{"type": "subscribe", "id": {}, "payload": {"query": 5}}']


async def one_attack(http: httpx.AsyncClient, ws_url: str, kind: int) -> str:
    if kind == 0:
        response = await http.post("/graphql", json={"query": hostile_query()})
    elif kind == 1:
        body = random.choice(BODIES)
        headers = {"content-type": "application/json"}
        response = await http.post("/graphql", content=body, headers=headers)
    elif kind == 2:
        response = await http.post(
            "/graphql/upload",
            data={"operations": '{"query": "{ health { ok } }"}', "map": '["variables.f"]'},
            files={"0": ("a.txt", b"a", "text/plain")},
        )
    else:
        protocol = random.choice(["graphql-transport-ws", "graphql-ws"])
        async with websockets.connect(ws_url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
            init = json.dumps({"type": "connection_init", "payload": {}})
            await ws.send(init)
            await ws.send(random.choice([*FRAMES, init]))
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 2)
            except (TimeoutError, websockets.ConnectionClosed) as ended:
                code = getattr(getattr(ended, "rcvd", None), "code", None)
                return f"ws {protocol} {code}"
    return f"http {response.status_code}"


KINDS = ("query", "body", "multipart", "socket")


async def attack(url: str, clients: int, seconds: float, kinds: list[int]) -> dict[str, int]:
    ws_url = url.replace("http://", "ws://") + "/graphql"
    outcomes: Counter[str] = Counter()
    deadline = time.monotonic() + seconds

    async def client(number: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            while time.monotonic() < deadline:
                try:
                    outcome = await one_attack(http, ws_url, random.choice(kinds))
                except (httpx.HTTPError, websockets.WebSocketException, OSError) as error:
                    outcome = f"client saw {type(error).__name__}"
                outcomes[outcome] += 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    return dict(outcomes)


def attacker(url: str, clients: int, seconds: float, kinds: list[int], results: Any) -> None:
    results.put(asyncio.run(attack(url, clients, seconds, kinds)))


async def health_latency(url: str, seconds: float) -> dict[str, Any]:
    samples: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            assert (await http.get("/health")).status_code == 200
            samples.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)
    return {
        "requests": len(samples),
        **percentiles(samples),
        "max_ms": round(max(samples) * 1000, 2),
        "mean_ms": round(statistics.mean(samples) * 1000, 2),
    }


def main(seconds: float, clients: int, processes: int, kinds: list[int]) -> dict[str, Any]:
    from askbase.app.observability.logging import configure_logging

    configure_logging(json=False, level="WARNING")  # the in-process part's GraphQL errors
    result: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "hostile_queries_in_process": asyncio.run(validation_ms()),
    }
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "serve.log"
        with serving(Path(tmp), log, LOG_LEVEL="WARNING") as url:
            result["health_alone"] = asyncio.run(health_latency(url, min(seconds, 5)))
            context = multiprocessing.get_context("spawn")
            queue = context.Queue()
            workers = [
                context.Process(
                    target=attacker,
                    args=(url, clients // processes, seconds + 1, kinds, queue),
                )
                for _ in range(processes)
            ]
            for worker in workers:
                worker.start()
            time.sleep(1)  # the attack under way
            result["health_under_attack"] = asyncio.run(health_latency(url, seconds))
            outcomes: Counter[str] = Counter()
            for _ in workers:
                outcomes.update(queue.get(timeout=seconds + 120))
            for worker in workers:
                worker.join(30)
            result["attack"] = {
                "clients": clients,
                "kinds": [KINDS[k] for k in kinds],
                "seconds": seconds,
                "requests": sum(outcomes.values()),
                "outcomes": dict(outcomes.most_common()),
            }
        alarms = [line for line in log.read_text().splitlines() if LOG_ALARMS.search(line)]
    result["server_log_alarms"] = alarms[:20]
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--kinds", default=",".join(KINDS), help="of: " + ",".join(KINDS))
    args = parser.parse_args()
    kinds = [KINDS.index(kind) for kind in args.kinds.split(",")]
    print(json.dumps(main(args.seconds, args.clients, args.processes, kinds), indent=2))
