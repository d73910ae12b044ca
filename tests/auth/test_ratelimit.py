"""Rate limits per client IP and per website, with retryAfter; limited calls write nothing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg

from tests.conftest import ADD_MESSAGE, CREATE_CHAT, ORIGIN, START_SESSION


async def test_per_ip_limit_answers_rate_limited_with_retry_after(
    start_api: Any, tenant_factory: Any
) -> None:
    site = await tenant_factory()
    async with start_api(RATE_LIMIT_IP_PER_MINUTE=3) as api:
        for _ in range(3):
            await api.data(START_SESSION, {"id": site.website_id}, origin=ORIGIN)
        error = await api.error(START_SESSION, {"id": site.website_id}, origin=ORIGIN)
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["retryAfter"] == 20


async def test_limited_writes_store_nothing(
    start_api: Any, tenant_factory: Any, admin: asyncpg.Connection
) -> None:
    site = await tenant_factory()
    async with start_api(RATE_LIMIT_IP_PER_MINUTE=3) as api:
        token = (await api.data(START_SESSION, {"id": site.website_id}, origin=ORIGIN))[
            "startSession"
        ]["token"]
        chat = (await api.data(CREATE_CHAT, {"w": site.website_id}, token=token, origin=ORIGIN))[
            "createChat"
        ]["id"]
        await api.data(ADD_MESSAGE, {"c": chat, "m": "one"}, token=token, origin=ORIGIN)
        error = await api.error(ADD_MESSAGE, {"c": chat, "m": "two"}, token=token, origin=ORIGIN)
        assert error["extensions"]["code"] == "RATE_LIMITED"
    rows = await admin.fetch("select content from messages where chat_id = $1::uuid", chat)
    assert [r["content"] for r in rows] == ["one"]


async def test_trusted_proxy_header_separates_clients(start_api: Any, tenant_factory: Any) -> None:
    site = await tenant_factory()
    async with start_api(
        RATE_LIMIT_IP_PER_MINUTE=2,
        TRUSTED_PROXY_HEADER="x-forwarded-for",
        TRUSTED_PROXY_CIDRS="127.0.0.1/32",
    ) as api:
        for client in ("203.0.113.1", "203.0.113.2"):
            headers = {"x-forwarded-for": f"10.9.9.9, {client}"}
            for _ in range(2):
                await api.data(
                    START_SESSION, {"id": site.website_id}, origin=ORIGIN, headers=headers
                )
        error = await api.error(
            START_SESSION,
            {"id": site.website_id},
            origin=ORIGIN,
            headers={"x-forwarded-for": "203.0.113.1"},
        )
        assert error["extensions"]["code"] == "RATE_LIMITED"


async def test_forwarded_headers_are_ignored_unless_trusted(
    start_api: Any, tenant_factory: Any
) -> None:
    site = await tenant_factory()
    async with start_api(RATE_LIMIT_IP_PER_MINUTE=2) as api:
        for i in range(2):
            await api.data(
                START_SESSION,
                {"id": site.website_id},
                origin=ORIGIN,
                headers={"x-forwarded-for": f"198.51.100.{i}"},
            )
        error = await api.error(
            START_SESSION,
            {"id": site.website_id},
            origin=ORIGIN,
            headers={"x-forwarded-for": "198.51.100.99"},
        )
        assert error["extensions"]["code"] == "RATE_LIMITED"


async def test_per_website_limit_holds_across_clients(start_api: Any, tenant_factory: Any) -> None:
    site = await tenant_factory()
    other = await tenant_factory()
    async with start_api(
        RATE_LIMIT_WEBSITE_PER_MINUTE=2,
        TRUSTED_PROXY_HEADER="x-forwarded-for",
        TRUSTED_PROXY_CIDRS="127.0.0.1",
    ) as api:
        for i in range(2):
            await api.data(
                START_SESSION,
                {"id": site.website_id},
                origin=ORIGIN,
                headers={"x-forwarded-for": f"192.0.2.{i}"},
            )
        error = await api.error(
            START_SESSION,
            {"id": site.website_id},
            origin=ORIGIN,
            headers={"x-forwarded-for": "192.0.2.50"},
        )
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["retryAfter"] == 30
        await api.data(START_SESSION, {"id": other.website_id}, origin=ORIGIN)


async def sessions_across(apis: list[Any], website_id: str, ip: str, calls: int) -> list[str]:
    """`calls` concurrent startSession calls from one client IP, spread over the
    instances; each call's outcome: "ok" or its error code."""
    bodies = await asyncio.gather(
        *(
            apis[i % len(apis)].gql(
                START_SESSION,
                {"id": website_id},
                origin=ORIGIN,
                headers={"x-client-ip": ip},
            )
            for i in range(calls)
        )
    )
    return [b["errors"][0]["extensions"]["code"] if b.get("errors") else "ok" for b in bodies]


async def test_the_postgres_backend_holds_one_limit_across_instances(
    start_api: Any, tenant_factory: Any
) -> None:
    site = await tenant_factory()
    shared = {
        "RATE_LIMIT_BACKEND": "postgres",
        "RATE_LIMIT_IP_PER_MINUTE": 5,
        "TRUSTED_PROXY_HEADER": "x-client-ip",
        "TRUSTED_PROXY_CIDRS": "127.0.0.1",
    }
    async with start_api(**shared) as a, start_api(**shared) as b:
        outcomes = await sessions_across(
            [a, b], site.website_id, f"10.8.{uuid.uuid4().int % 250}.1", 12
        )
    assert outcomes.count("ok") == 5, outcomes  # not one more, though 12 raced on two instances
    assert outcomes.count("RATE_LIMITED") == 7


async def test_the_memory_backend_limits_each_instance_on_its_own(
    start_api: Any, tenant_factory: Any
) -> None:
    """Why the postgres backend exists: in memory, each instance has its own buckets."""
    site = await tenant_factory()
    alone = {
        "RATE_LIMIT_IP_PER_MINUTE": 5,
        "TRUSTED_PROXY_HEADER": "x-client-ip",
        "TRUSTED_PROXY_CIDRS": "127.0.0.1",
    }
    async with start_api(**alone) as a, start_api(**alone) as b:
        outcomes = await sessions_across([a, b], site.website_id, "10.7.0.1", 12)
    assert outcomes.count("ok") == 10, outcomes


async def test_drained_buckets_are_swept(pg_dsn: str, admin: asyncpg.Connection) -> None:
    from askbase.app.auth.ratelimit import PostgresLimiter
    from askbase.database.pool import create_pool

    await admin.execute(
        "insert into rate_limits values ('sweep:old', 3, now() - interval '2 minutes') "
        "on conflict (key) do update set updated_at = excluded.updated_at"
    )
    pool = await create_pool(pg_dsn, min_size=1, max_size=1)
    try:
        await PostgresLimiter(pool, "sweep", 5, sweep_every=1).hit("new")
    finally:
        await pool.close()
    keys = await admin.fetch("select key, level from rate_limits where key like 'sweep:%'")
    assert [(r["key"], r["level"]) for r in keys] == [("sweep:new", 1.0)]


SEARCH = "query($w: ID!, $q: String!) { search(websiteId: $w, query: $q) { documentId } }"


async def test_search_is_counted_against_the_visitors_limits_alias_by_alias(
    start_api: Any, tenant_factory: Any
) -> None:
    """Each search costs a query embedding: a visitor's searches are limited like their
    questions, and aliases in one request do not multiply the budget."""
    site = await tenant_factory()
    async with start_api(RATE_LIMIT_IP_PER_MINUTE=4) as api:
        token = (await api.data(START_SESSION, {"id": site.website_id}, origin=ORIGIN))[
            "startSession"
        ]["token"]  # the first hit
        await api.data(SEARCH, {"w": site.website_id, "q": "refunds"}, token=token, origin=ORIGIN)
        aliased = (
            "query($w: ID!) { "
            + " ".join(
                f'a{i}: search(websiteId: $w, query: "q{i}") {{ documentId }}' for i in range(5)
            )
            + " }"
        )
        body = await api.gql(aliased, {"w": site.website_id}, token=token, origin=ORIGIN)
        codes = [e["extensions"]["code"] for e in body.get("errors", [])]
        assert "RATE_LIMITED" in codes, body  # 2 of the 5 fit in the budget of 4
        # Counted once per request, the 5 aliases would have left one call in the budget.
        error = await api.error(
            SEARCH, {"w": site.website_id, "q": "x"}, token=token, origin=ORIGIN
        )
        assert error["extensions"]["code"] == "RATE_LIMITED"


async def test_an_owner_question_with_one_pooled_connection_and_postgres_limits_completes(
    start_api: Any, tenant_factory: Any
) -> None:
    """The rate-limit check of an owner runs outside the request's transaction: with the
    PostgreSQL limiter (a pooled connection of its own) and a pool of one it must not wait
    for the connection its own caller holds."""
    site = await tenant_factory()
    async with start_api(DB_POOL_MIN=1, DB_POOL_MAX=1, RATE_LIMIT_BACKEND="postgres") as api:
        chat = (await api.data(CREATE_CHAT, {"w": site.website_id}, token=site.owner))[
            "createChat"
        ]["id"]
        added = await asyncio.wait_for(
            api.data(ADD_MESSAGE, {"c": chat, "m": "hello"}, token=site.owner), timeout=20
        )
        assert added["addMessage"]["content"] == "hello"
        found = await asyncio.wait_for(
            api.data(SEARCH, {"w": site.website_id, "q": "hello"}, token=site.owner), timeout=20
        )
        assert found["search"] == []
