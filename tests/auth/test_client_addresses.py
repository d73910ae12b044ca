"""Visitors' IP addresses are never stored in plain text: the PostgreSQL rate limits keep
a keyed hash (HMAC-SHA256 under a server secret), and the request log has no address."""

from __future__ import annotations

import random
from typing import Any

import asyncpg
from structlog.testing import capture_logs as capturing

from askbase.app.auth.clients import client_digest
from tests.conftest import ADD_MESSAGE, CREATE_CHAT, ORIGIN, START_SESSION

TEXT_TYPES = ("text", "character varying", "character", "jsonb", "json", "ARRAY", "inet", "cidr")


async def tables_holding(admin: asyncpg.Connection, needle: str) -> list[str]:
    """Every column of every table in public whose text holds `needle`."""
    columns = await admin.fetch(
        """
        select c.table_name, c.column_name from information_schema.columns c
        join information_schema.tables t using (table_schema, table_name)
        where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
          and c.data_type = any($1::text[])
        order by 1, 2
        """,
        list(TEXT_TYPES),
    )
    assert any(c["table_name"] == "rate_limits" for c in columns)
    found = []
    for column in columns:
        table, name = column["table_name"], column["column_name"]
        hits = await admin.fetchval(
            f'select count(*) from public."{table}" where strpos("{name}"::text, $1) > 0', needle
        )
        if hits:
            found.append(f"{table}.{name}")
    return found


async def test_no_table_or_log_line_holds_a_clients_address(
    start_api: Any,
    tenant_factory: Any,
    admin: asyncpg.Connection,
) -> None:
    site = await tenant_factory()
    address = f"198.51.100.{random.randrange(1, 255)}"
    proxied = {
        "RATE_LIMIT_BACKEND": "postgres",
        "TRUSTED_PROXY_HEADER": "x-client-ip",
        "TRUSTED_PROXY_CIDRS": "127.0.0.1",
    }
    headers = {"x-client-ip": address}
    with capturing() as logged:
        async with start_api(**proxied) as api:
            session = (
                await api.data(
                    START_SESSION, {"id": site.website_id}, origin=ORIGIN, headers=headers
                )
            )["startSession"]
            token = session["token"]
            chat = (
                await api.data(
                    CREATE_CHAT, {"w": site.website_id}, token=token, origin=ORIGIN, headers=headers
                )
            )["createChat"]["id"]
            await api.data(
                ADD_MESSAGE, {"c": chat, "m": "hello"}, token=token, origin=ORIGIN, headers=headers
            )
            digest = client_digest(api.state.keys.client_secret, address)

    # The client was counted, under its keyed hash.
    counted = await admin.fetchval(
        "select count(*) from rate_limits where key = $1", f"ip:{digest}"
    )
    assert counted == 1
    assert address not in digest and len(digest) == 64
    assert await tables_holding(admin, address) == []
    requests = [line for line in logged if line["event"] == "request"]
    assert len(requests) >= 3  # each request was logged, and no line holds the address
    assert all(address not in repr(line) for line in logged)
