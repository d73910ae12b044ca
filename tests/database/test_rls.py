"""Row-level security, checked in SQL: the database refuses cross-tenant rows by itself."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from tests.conftest import ADD_MESSAGE, CREATE_CHAT, Api, visitor_session


async def as_role(
    conn: asyncpg.Connection, role: str, claims: dict[str, Any], sql: str, *args: Any
) -> list[asyncpg.Record]:
    async with conn.transaction():
        await conn.execute(
            "select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)",
            role,
            json.dumps(claims),
        )
        rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        return rows


async def visitor_with_message(api: Api, website_id: str, text: str) -> dict[str, Any]:
    session = await visitor_session(api, website_id)
    chat = (
        await api.data(
            CREATE_CHAT, {"w": website_id}, token=session["token"], origin="https://shop.example"
        )
    )["createChat"]
    await api.data(
        ADD_MESSAGE,
        {"c": chat["id"], "m": text},
        token=session["token"],
        origin="https://shop.example",
    )
    return {"visitor": session["visitorId"], "chat": chat["id"], "website": website_id}


async def test_raw_select_under_a_visitors_claims_sees_only_their_messages(
    api: Api, admin: asyncpg.Connection, tenant_factory: Callable[..., Any]
) -> None:
    site_a = await tenant_factory()
    site_b = await tenant_factory()
    alice = await visitor_with_message(api, site_a.website_id, "alice here")
    bob = await visitor_with_message(api, site_a.website_id, "bob here")
    carol = await visitor_with_message(api, site_b.website_id, "carol here")

    claims = {"sub": alice["visitor"], "role": "anon", "website_id": site_a.website_id}
    rows = await as_role(admin, "anon", claims, "select * from messages")
    assert [r["content"] for r in rows] == ["alice here"]
    assert {str(r["chat_id"]) for r in rows} == {alice["chat"]}

    chats = await as_role(admin, "anon", claims, "select * from chats")
    assert [str(r["id"]) for r in chats] == [alice["chat"]]
    assert bob and carol  # they exist, just not for alice


async def test_a_visitor_claiming_another_website_sees_nothing(
    api: Api, admin: asyncpg.Connection, tenant_factory: Callable[..., Any]
) -> None:
    site_a = await tenant_factory()
    site_b = await tenant_factory()
    alice = await visitor_with_message(api, site_a.website_id, "hello")
    claims = {"sub": alice["visitor"], "role": "anon", "website_id": site_b.website_id}
    assert await as_role(admin, "anon", claims, "select * from messages") == []
    assert await as_role(admin, "anon", claims, "select * from chats") == []


async def test_owner_claims_see_only_their_own_websites_rows(
    api: Api, admin: asyncpg.Connection, tenant_factory: Callable[..., Any]
) -> None:
    site_a = await tenant_factory()
    site_b = await tenant_factory()
    await visitor_with_message(api, site_a.website_id, "for owner a")
    await visitor_with_message(api, site_b.website_id, "for owner b")
    claims = {"sub": str(site_a.owner_id), "role": "authenticated"}
    messages = await as_role(admin, "authenticated", claims, "select * from messages")
    assert [m["content"] for m in messages] == ["for owner a"]
    sites = await as_role(admin, "authenticated", claims, "select * from websites")
    assert [str(s["id"]) for s in sites] == [site_a.website_id]


async def test_writes_into_another_tenant_are_refused(
    api: Api, admin: asyncpg.Connection, tenant_factory: Callable[..., Any]
) -> None:
    site_a = await tenant_factory()
    site_b = await tenant_factory()
    bob = await visitor_with_message(api, site_b.website_id, "bob's")
    owner_a = {"sub": str(site_a.owner_id), "role": "authenticated"}
    # Refused by the policy, or first by the trigger (whose lookup RLS also filters).
    with pytest.raises((asyncpg.InsufficientPrivilegeError, asyncpg.CheckViolationError)):
        await as_role(
            admin,
            "authenticated",
            owner_a,
            "insert into messages (chat_id, website_id, role, content) "
            "values ($1, $2, 'user', 'injected') returning id",
            uuid.UUID(bob["chat"]),
            uuid.UUID(site_b.website_id),
        )
    updated = await as_role(
        admin,
        "authenticated",
        owner_a,
        "update websites set name = 'taken' where true returning id",
    )
    assert [str(r["id"]) for r in updated] == [site_a.website_id]
    count = await admin.fetchval(
        "select count(*) from messages where chat_id = $1", uuid.UUID(bob["chat"])
    )
    assert count == 1


async def test_visitors_cannot_read_owner_only_website_columns(
    api: Api, admin: asyncpg.Connection, tenant_factory: Callable[..., Any]
) -> None:
    site = await tenant_factory()
    claims = {"sub": str(uuid.uuid4()), "role": "anon", "website_id": site.website_id}
    rows = await as_role(admin, "anon", claims, "select id, name from websites")
    assert [str(r["id"]) for r in rows] == [site.website_id]
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_role(admin, "anon", claims, "select system_prompt from websites")


async def test_anonymous_claims_see_no_rows(
    api: Api, admin: asyncpg.Connection, tenant_factory: Callable[..., Any]
) -> None:
    site = await tenant_factory()
    await visitor_with_message(api, site.website_id, "private")
    for table in ("chats", "messages", "document_chunks"):
        assert await as_role(admin, "anon", {"role": "anon"}, f"select * from {table}") == []


async def test_every_table_has_row_level_security(admin: asyncpg.Connection) -> None:
    rows = await admin.fetch(
        "select relname, relrowsecurity from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'public' and c.relkind = 'r'"
    )
    assert rows
    assert {r["relname"]: r["relrowsecurity"] for r in rows} == {r["relname"]: True for r in rows}


async def test_a_pooled_connection_keeps_no_role_or_claims_after_its_transaction(
    pg_dsn: str, admin: asyncpg.Connection
) -> None:
    """A request's transaction ends with a reset in the same round trip as its commit or
    rollback: even a role and claims set for the whole session (a bug) do not reach the
    next request on the same connection, and a failed request leaves no transaction."""
    from askbase.database.pool import Database, create_pool

    db = Database(await create_pool(pg_dsn, min_size=1, max_size=1))
    leak = (
        "select set_config('role', 'anon', false), "
        "set_config('request.jwt.claims', '{\"sub\": \"leaked\"}', false)"
    )
    try:
        async with db.session("anon", {"sub": str(uuid.uuid4()), "role": "anon"}) as conn:
            assert await conn.fetchval("select current_user") == "anon"
            await conn.execute(leak)
        with pytest.raises(asyncpg.UndefinedTableError):
            async with db.service() as conn:
                await conn.execute(leak)
                await conn.execute("select * from no_such_table")
        async with db.pool.acquire() as conn:  # the same connection: max_size=1
            assert not conn.is_in_transaction()
            assert await conn.fetchval("select current_user") == await conn.fetchval(
                "select session_user"
            )
            assert not await conn.fetchval("select current_setting('request.jwt.claims', true)")
    finally:
        await db.close()


async def test_claims_reach_postgres_verbatim_and_a_failed_transaction_is_rolled_back(
    pg_dsn: str,
) -> None:
    """Claims are set in the same round trip as `begin`, as string constants: quotes,
    backslashes and other text in a token's claims must arrive unchanged and inert."""
    from askbase.database.pool import Database, create_pool

    db = Database(await create_pool(pg_dsn, min_size=1, max_size=1))
    claims = {
        "sub": str(uuid.uuid4()),
        "role": "anon",
        "name": "O'Brien \\'; drop table public.websites; -- \\\\ \n \u00e9 $$",
    }
    try:
        async with db.session("anon", claims, {"hnsw.ef_search": "77"}) as conn:
            assert json.loads(await conn.fetchval("select current_setting('request.jwt.claims')"))
            got = await conn.fetchval("select auth.jwt() ->> 'name'")
            assert got == claims["name"]
            assert await conn.fetchval("select current_setting('hnsw.ef_search')") == "77"
        with pytest.raises(asyncpg.UndefinedTableError):
            async with db.service() as conn:
                await conn.execute("select set_config('askbase.probe', 'kept?', false)")
                await conn.execute("select * from no_such_table")
        async with db.pool.acquire() as conn:  # the same connection: max_size=1
            assert not conn.is_in_transaction()
            assert await conn.fetchval("select to_regclass('public.websites')") is not None
            assert not await conn.fetchval("select current_setting('askbase.probe', true)")
    finally:
        await db.close()
