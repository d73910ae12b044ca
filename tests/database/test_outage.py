"""PostgreSQL stopped and started again under load: meanwhile /health/db says 503 and
calls fail with UNAVAILABLE; afterwards the same process serves again without a restart,
every acknowledged message is stored exactly once, and ingestion works again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from tests.conftest import (
    ADD_MESSAGE,
    CREATE_CHAT,
    ORIGIN,
    embedded_postgres,
    owner_token,
    running_api,
)
from tests.knowledge.test_documents import wait_until_done


async def test_the_service_rides_out_a_database_restart(tmp_path: Path) -> None:
    server = embedded_postgres(tmp_path)
    dsn = server.get_uri()
    owner = owner_token()
    try:
        async with running_api(
            dsn,
            tmp_path / "data",
            RATE_LIMIT_IP_PER_MINUTE=1e6,
            RATE_LIMIT_WEBSITE_PER_MINUTE=1e6,
        ) as api:
            site = (
                await api.data(
                    "mutation($i: CreateWebsiteInput!) { createWebsite(input: $i) { id } }",
                    {"i": {"domain": "outage.example", "allowedOrigins": [ORIGIN]}},
                    token=owner,
                )
            )["createWebsite"]["id"]
            chat = (await api.data(CREATE_CHAT, {"w": site}, token=owner))["createChat"]["id"]

            acknowledged: list[str] = []
            refused: list[str] = []
            running = True

            async def load() -> None:
                number = 0
                while running:
                    number += 1
                    text = f"message {number}"
                    try:
                        body = await api.gql(ADD_MESSAGE, {"c": chat, "m": text}, token=owner)
                    except AssertionError:  # a non-200 answer
                        refused.append("HTTP")
                        continue
                    if body.get("errors"):
                        refused.append(body["errors"][0]["extensions"]["code"])
                    else:
                        acknowledged.append(text)
                    await asyncio.sleep(0.005)

            writer = asyncio.create_task(load())
            await asyncio.sleep(1.0)
            before = len(acknowledged)
            await asyncio.to_thread(server.stop)
            await asyncio.sleep(0.5)
            down = await api.http.get("/health/db")
            alive = await api.http.get("/health")
            await asyncio.sleep(1.0)
            await asyncio.to_thread(server.ensure_postgres_running)
            for _ in range(300):
                if (await api.http.get("/health/db")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            recovered = await api.http.get("/health/db")
            during = len(refused)
            await asyncio.sleep(1.0)
            running = False
            await writer

            assert down.status_code == 503 and down.json() == {"ok": False, "database": False}
            assert alive.status_code == 200, "the process itself stays up"
            assert recovered.status_code == 200
            assert before > 0 and len(acknowledged) > before, "writes go on after the restart"
            assert during > 0 and set(refused) == {"UNAVAILABLE"}, refused
            assert len(refused) == during, "nothing failed once the database was back"

            # Ingestion recovered too (its workers and the LISTEN connection).
            doc = await api.data(
                'mutation($w: ID!) { addDocumentText(websiteId: $w, filename: "a.txt", '
                'text: "Back in business.") { id } }',
                {"w": site},
                token=owner,
            )
            ready = await wait_until_done(api, owner, doc["addDocumentText"]["id"], within=60)
            assert ready["status"] == "READY"

        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch(
                "select content, count(*) as n from public.messages where chat_id = $1::uuid "
                "group by content",
                chat,
            )
        finally:
            await conn.close()
        stored = {r["content"]: r["n"] for r in rows}
        assert all(stored.get(text) == 1 for text in acknowledged), "an acknowledged write is lost"
        assert all(n == 1 for n in stored.values()), "a write is stored twice"
    finally:
        server._cleanup()
