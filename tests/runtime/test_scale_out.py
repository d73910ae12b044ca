"""Two `askbase serve` processes and one `askbase worker` on one database, as behind a
load balancer: an upload on one instance is ingested once, by the worker; the other
instance's documentStatus sees every change; chats work on either; rate limits hold
across both with RATE_LIMIT_BACKEND=postgres."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.chat.test_chat_stream import connected, events, new_chat, start
from tests.conftest import ORIGIN, START_SESSION, Api, askbase_process, owner_token
from tests.knowledge.test_documents import upload
from tests.web.test_ws import recv

ROOT = Path(__file__).resolve().parents[2]
FAQ = (
    b"# Shipping\n\nParcels leave the warehouse within two working days.\n\n"
    b"# Returns\n\nReturns are accepted for thirty days after delivery."
)


@contextmanager
def askbase(command: str, dsn: str, data_dir: Path, **env: str) -> Iterator[str]:
    """An instance or a worker on the shared database; only the worker ingests."""
    shared = {
        "DATABASE_URL": dsn,
        "INGEST_WORKERS": "0",
        "RATE_LIMIT_BACKEND": "postgres",
        "TRUSTED_PROXY_HEADER": "x-client-ip",
        "TRUSTED_PROXY_CIDRS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    with askbase_process(command, data_dir, **{**shared, **env}) as url:
        yield url


async def test_two_instances_and_a_worker_share_one_database(
    fresh_dsn: str, tmp_path: Path
) -> None:
    owner = owner_token()
    with (
        askbase("serve", fresh_dsn, tmp_path / "a", RATE_LIMIT_IP_PER_MINUTE="4") as url_a,
        askbase("serve", fresh_dsn, tmp_path / "b", RATE_LIMIT_IP_PER_MINUTE="4") as url_b,
    ):
        async with (
            httpx.AsyncClient(base_url=url_a, timeout=30) as http_a,
            httpx.AsyncClient(base_url=url_b, timeout=30) as http_b,
        ):
            a = Api(base_url=url_a, state=None, http=http_a)  # type: ignore[arg-type]
            b = Api(base_url=url_b, state=None, http=http_b)  # type: ignore[arg-type]
            site = (
                await a.data(
                    "mutation($i: CreateWebsiteInput!) { createWebsite(input: $i) { id } }",
                    {"i": {"domain": "shop.example", "allowedOrigins": [ORIGIN]}},
                    token=owner,
                )
            )["createWebsite"]["id"]

            # Upload on A; follow the document on B; the worker starts only then.
            uploaded = await upload(a, owner, site, "faq.md", FAQ)
            document_id = uploaded["data"]["uploadDocument"]["id"]
            statuses = []
            query = "subscription($d: ID!) { documentStatus(documentId: $d) { status chunkCount } }"
            async with connected(b, "graphql-transport-ws", owner) as ws:
                payload = {"query": query, "variables": {"d": document_id}}
                await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
                first = await asyncio.wait_for(recv(ws), 10)
                statuses.append(first["payload"]["data"]["documentStatus"]["status"])
                with askbase("worker", fresh_dsn, tmp_path / "worker"):
                    while True:
                        message = await asyncio.wait_for(recv(ws), 60)
                        if message["type"] == "complete":
                            break
                        statuses.append(message["payload"]["data"]["documentStatus"]["status"])
            assert statuses == ["PENDING", "PROCESSING", "READY"]

            conn = await asyncpg.connect(fresh_dsn)
            try:
                job = await conn.fetchrow(
                    "select count(*) as jobs, max(attempts) as attempts from public.jobs "
                    "where document_id = $1::uuid",
                    document_id,
                )
                chunks = await conn.fetchval(
                    "select count(*) from public.document_chunks where document_id = $1::uuid",
                    document_id,
                )
                stored = await conn.fetchval(
                    "select chunk_count from public.documents where id = $1::uuid", document_id
                )
            finally:
                await conn.close()
            assert (job["jobs"], job["attempts"]) == (1, 1), "ingested once"
            assert chunks == stored > 0

            # A visitor: session on A, chat created on B, answer streamed by A, history on B.
            session = (
                await a.data(
                    START_SESSION, {"id": site}, origin=ORIGIN, headers={"x-client-ip": "10.1.0.1"}
                )
            )["startSession"]
            chat_id = await new_chat(b, session["token"], site)
            async with connected(a, "graphql-transport-ws", session["token"]) as ws:
                await start(ws, "graphql-transport-ws", chat_id, "How long are returns accepted?")
                got = await events(ws)
            assert got[-1]["__typename"] == "MessageDone"
            assert "thirty days" in got[-1]["message"]["content"]
            history = await b.data(
                "query($c: ID!) { messages(chatId: $c) { nodes { role status } } }",
                {"c": chat_id},
                token=session["token"],
                origin=ORIGIN,
            )
            assert [n["role"] for n in history["messages"]["nodes"]] == ["USER", "ASSISTANT"]

            # One client IP, 4 calls a minute, spread over both instances: 4 pass in all.
            outcomes: list[Any] = []
            for i in range(8):
                api = (a, b)[i % 2]
                body = await api.gql(
                    START_SESSION, {"id": site}, origin=ORIGIN, headers={"x-client-ip": "10.2.0.1"}
                )
                outcomes.append(
                    body["errors"][0]["extensions"]["code"] if "errors" in body else "ok"
                )
            assert outcomes.count("ok") == 4 and outcomes.count("RATE_LIMITED") == 4, outcomes
