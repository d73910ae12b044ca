"""GET /metrics: Prometheus text with requests, operations, answers, subscriptions, jobs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.chat.test_chat_stream import REFUNDS, connected, events, new_chat, start
from tests.conftest import Api, Tenant, owner_token, running_api, visitor_session
from tests.knowledge.test_search import add_text


async def scrape(api: Api, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await api.http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_operations_answers_and_jobs_are_counted(
    api: Api, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from askbase.app.web import probes

    monkeypatch.setattr(probes, "JOB_COUNTS_SECONDS", 0.0)  # count at every scrape here
    before = await scrape(api)
    await api.gql("query HealthCheck { health { ok } }")
    await api.gql("query Broken { nope }")
    await add_text(api, tenant, "refunds.md", REFUNDS)  # waits until READY
    session = await visitor_session(api, tenant.website_id)
    chat_id = await new_chat(api, session["token"], tenant.website_id)
    async with connected(api, "graphql-transport-ws", session["token"]) as ws:
        await start(ws, "graphql-transport-ws", chat_id, "How long do refunds take?")
        await events(ws)
    after = await scrape(api)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    operations = "askbase_graphql_operations_total"
    assert grew(operations, operation="HealthCheck", type="query", outcome="ok") == 1
    broken = {"operation": "Broken", "type": "query", "outcome": "GRAPHQL_VALIDATION_FAILED"}
    assert grew(operations, **broken) == 1
    assert grew("askbase_answers_total", status="complete") == 1
    assert grew("askbase_time_to_first_token_seconds_count") == 1
    assert grew("askbase_tokens_streamed_total", model="extractive") > 0
    assert grew("askbase_http_requests_total", method="POST", route="/graphql", status="200") >= 3
    assert value(after, "askbase_ingestion_jobs", state="done") >= 1
    assert value(after, "askbase_db_pool_connections", state="open") >= 1


async def test_active_subscriptions_are_a_gauge(fresh_dsn: str, tmp_path: Path) -> None:
    """No ingestion workers on this instance: the document stays PENDING, so its
    documentStatus subscription stays open until the client completes it."""
    owner = owner_token()
    gauge = {"field": "documentStatus"}
    async with running_api(fresh_dsn, tmp_path, INGEST_WORKERS=0) as api:
        site = await api.data(
            'mutation { createWebsite(input: {domain: "m.example"}) { id } }', token=owner
        )
        doc = await api.data(
            'mutation($w: ID!) { addDocumentText(websiteId: $w, filename: "a.txt", text: "Hi.") { id } }',
            {"w": site["createWebsite"]["id"]},
            token=owner,
        )
        query = "subscription($d: ID!) { documentStatus(documentId: $d) { status } }"
        payload = {"query": query, "variables": {"d": doc["addDocumentText"]["id"]}}
        assert value(await scrape(api), "askbase_active_subscriptions", **gauge) == 0
        async with connected(api, "graphql-transport-ws", owner) as ws:
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            first = json.loads(await ws.recv())
            assert first["payload"]["data"]["documentStatus"]["status"] == "PENDING"
            assert value(await scrape(api), "askbase_active_subscriptions", **gauge) == 1
            await ws.send(json.dumps({"id": "1", "type": "complete"}))
            for _ in range(50):
                if value(await scrape(api), "askbase_active_subscriptions", **gauge) == 0:
                    break
                await asyncio.sleep(0.05)
            assert value(await scrape(api), "askbase_active_subscriptions", **gauge) == 0


async def test_a_metrics_token_guards_the_endpoint(start_api: Any) -> None:
    async with start_api(METRICS_TOKEN="scrape-secret") as guarded:
        assert (await guarded.http.get("/metrics")).status_code == 401
        wrong = await guarded.http.get("/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        samples = await scrape(guarded, authorization="Bearer scrape-secret")
        assert any(name == "askbase_http_requests_total" for name, _ in samples)


async def test_without_a_token_metrics_answer_only_this_host(start_api: Any) -> None:
    proxied = {"TRUSTED_PROXY_HEADER": "x-forwarded-for", "TRUSTED_PROXY_CIDRS": "127.0.0.1"}
    async with start_api(**proxied) as api:
        assert (await api.http.get("/metrics")).status_code == 200  # a scraper on this host
        remote = await api.http.get("/metrics", headers={"x-forwarded-for": "203.0.113.9"})
        assert remote.status_code == 403 and "METRICS_TOKEN" in remote.text
