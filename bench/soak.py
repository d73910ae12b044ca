"""Soak: many streaming clients for a long time against one `askbase serve`; prints JSON.

Run: .venv/bin/python bench/soak.py [--minutes 30] [--clients 200]

The server runs in its own process on an embedded PostgreSQL, with an OpenAI-compatible
peer in this process that streams 40 tokens at 20 a second (a 2 s answer). Each client
asks, reads the whole answer, waits 0-2 s, and asks again, on a new WebSocket each time,
for the whole run. Every minute: server RSS, time to first token (p50, p99), answers,
failures and tokens lost. At the end: the drift between the first and the last minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import askbase_server  # noqa: E402
from bench.chat import Client, peer_app, rss_kb, serving, setup  # noqa: E402
from bench.stats import percentiles  # noqa: E402

TOKENS = 40


class Minute:
    def __init__(self) -> None:
        self.first_tokens: list[float] = []
        self.answers = 0
        self.failures = 0
        self.tokens_lost = 0


async def client_loop(client: Client, chat_id: str, until: float, minutes: list[Minute]) -> None:
    while time.monotonic() < until:
        try:
            first, tokens, _ = await client.ask(chat_id, "How long do refunds take?")
            minutes[-1].first_tokens.append(first)
            minutes[-1].answers += 1
            minutes[-1].tokens_lost += TOKENS - tokens
        except Exception:
            minutes[-1].failures += 1
        await asyncio.sleep(random.uniform(0, 2))


async def soak(minutes_total: float, clients: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        async with serving(peer_app(TOKENS, 0.05)) as peer_port:
            env = {
                "LLM_PROVIDER": "openai",
                "LLM_BASE_URL": f"http://127.0.0.1:{peer_port}/v1",
                "DB_POOL_MAX": "20",
            }
            pids: list[int] = []
            with askbase_server(Path(tmp) / "soak", env, pids) as url:
                client = await setup(url)
                async with httpx.AsyncClient(base_url=url, timeout=60) as http:
                    chats = [await client.chat(http) for _ in range(clients)]
                minutes = [Minute()]
                series: list[dict[str, Any]] = []
                started = time.monotonic()
                until = started + minutes_total * 60
                loops = asyncio.gather(*(client_loop(client, c, until, minutes) for c in chats))
                while not loops.done():
                    await asyncio.sleep(min(60, max(0.1, until - time.monotonic() + 0.1)))
                    done = minutes[-1]
                    minutes.append(Minute())  # the clients count into the new minute
                    series.append(
                        {
                            "minute": round((time.monotonic() - started) / 60, 1),
                            "server_rss_mb": round(rss_kb(pids[0]) / 1024, 1),
                            "answers": done.answers,
                            "failures": done.failures,
                            "tokens_lost": done.tokens_lost,
                            "ttft": percentiles(done.first_tokens) if done.first_tokens else None,
                        }
                    )
                    print(json.dumps(series[-1]), file=sys.stderr, flush=True)
                    if time.monotonic() >= until:
                        break
                await loops
    full = [m for m in series if m["ttft"]]
    head, tail = full[: max(1, len(full) // 6)], full[-max(1, len(full) // 6) :]

    def mean(rows: list[dict[str, Any]], key: str) -> float:
        values: list[float] = [r[key] if key != "p50" else r["ttft"]["p50_ms"] for r in rows]
        return round(sum(values) / len(values), 1)

    return {
        "minutes": minutes_total,
        "clients": clients,
        "answers": sum(m["answers"] for m in series),
        "failures": sum(m["failures"] for m in series),
        "tokens_lost": sum(m["tokens_lost"] for m in series),
        "drift": {
            "server_rss_mb_first_to_last": [
                mean(head, "server_rss_mb"),
                mean(tail, "server_rss_mb"),
            ],
            "ttft_p50_ms_first_to_last": [mean(head, "p50"), mean(tail, "p50")],
        },
        "series": series,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--clients", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(soak(args.minutes, args.clients)), indent=2))
