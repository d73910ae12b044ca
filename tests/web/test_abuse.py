"""Hostile documents cost little and leave nothing behind: no reference cycles for the
garbage collector, nothing in the caches, and /health answers promptly while clients
send them (bench/abuse.py measures the same at length)."""

from __future__ import annotations

import asyncio
import gc
import json
import random
import string
import sys
import time

import httpx
from graphql import get_introspection_query

from bench.abuse import hostile_query
from bench.fuzz import ROOT
from tests.conftest import Api


async def test_hostile_documents_leave_no_garbage_cycles() -> None:
    from askbase.schema.build import build_schema

    schema = build_schema()
    await schema.execute(hostile_query())
    gc.collect()
    for shape in (0, 1):
        for _ in range(5):
            result = await schema.execute(hostile_query(shape))
            assert result.errors
    # Each parse used to leave its tokens (a doubly linked list) for the collector.
    assert gc.collect() < 100


async def test_unique_long_documents_are_not_cached() -> None:
    """Hostile clients sending unique documents must not fill the caches: each cached
    document is thousands of objects that every full garbage collection walks."""
    from askbase.schema.build import build_schema

    schema = build_schema()
    introspection = get_introspection_query()

    def unique() -> str:
        name = "".join(random.choices(string.ascii_lowercase, k=8))
        return introspection.replace("query IntrospectionQuery", f"query {name}", 1)

    result = await schema.execute(unique())
    assert not result.errors
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(40):
        await schema.execute(unique())
    gc.collect()
    grown = len(gc.get_objects()) - before
    assert grown < 5_000, f"{grown} objects kept for 40 documents"  # before: ~24,000


ATTACK = """
import asyncio, json, sys
from bench.abuse import attack
print(json.dumps(asyncio.run(attack(sys.argv[1], 5, float(sys.argv[2]), [0]))))
"""


async def test_health_answers_while_clients_send_hostile_documents(api: Api) -> None:
    """/health answers 200 all along and no request gets a 500. How fast it answers is
    measured by bench/abuse.py (no timing thresholds in tests: these machines are noisy)."""
    seconds = 4.0
    attackers = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        ATTACK,
        api.base_url,
        str(seconds),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    samples: list[float] = []
    fresh = httpx.Limits(max_keepalive_connections=0)  # see bench/fuzz.py
    async with httpx.AsyncClient(base_url=api.base_url, limits=fresh, timeout=30) as http:
        await asyncio.sleep(0.5)  # under way
        deadline = time.monotonic() + seconds - 1
        while time.monotonic() < deadline:
            started = time.perf_counter()
            assert (await http.get("/health")).status_code == 200
            samples.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)
    output, _ = await attackers.communicate()
    assert samples, "/health never answered during the attack"
    sent = json.loads(output)
    assert sum(sent.values()) > 50 and set(sent) == {"http 200"}, sent
