"""The console's sign-in without Supabase Auth: one-time codes (`askbase console-link`)
exchanged through redeemConsoleCode for an owner token."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg

from askbase.app.auth import console
from askbase.app.cli.console import console_link
from askbase.app.core.settings import load_settings
from tests.conftest import JWT_SECRET, Api

REDEEM = """
mutation($code: String!) { redeemConsoleCode(code: $code) { accessToken expiresAt } }
"""
WEBSITES = "{ websites { id domain } }"
CREATE = 'mutation { createWebsite(input: {domain: "console.example"}) { id } }'


async def issue(api: Api, user_id: uuid.UUID) -> str:
    async with api.state.db.service() as conn:
        return await console.issue_code(conn, user_id)


async def refused(api: Api, code: str) -> str:
    error = await api.error(REDEEM, {"code": code})
    assert error["extensions"]["code"] == "UNAUTHENTICATED", error
    message: str = error["message"]
    return message


async def test_a_code_signs_its_owner_in_once(api: Api) -> None:
    user = uuid.uuid4()
    code = await issue(api, user)
    session = (await api.data(REDEEM, {"code": code}))["redeemConsoleCode"]
    expires = datetime.fromisoformat(session["expiresAt"])
    assert timedelta(hours=11) < expires - datetime.now().astimezone() <= timedelta(hours=12)
    token = session["accessToken"]
    created = (await api.data(CREATE, token=token))["createWebsite"]["id"]
    listed = (await api.data(WEBSITES, token=token))["websites"]
    assert [w["id"] for w in listed] == [created]
    # The same code again: used up.
    assert await refused(api, code) == console.REFUSED


async def test_unknown_expired_and_malformed_codes_are_refused_alike(
    api: Api, admin: asyncpg.Connection
) -> None:
    expired = await issue(api, uuid.uuid4())
    await admin.execute(
        "update public.console_codes set expires_at = now() - interval '1 second'"
        " where code_hash = $1",
        hashlib.sha256(expired.encode()).digest(),
    )
    unknown = "A" * 43
    for code in (expired, unknown, "nope", "", "x" * 10_000, "../" * 20):
        assert await refused(api, code) == console.REFUSED, code
    # The expired code went when it was tried: it cannot be tried twice either.
    count = await admin.fetchval(
        "select count(*) from public.console_codes where code_hash = $1",
        hashlib.sha256(expired.encode()).digest(),
    )
    assert count == 0


async def test_only_a_hash_of_a_code_is_stored(api: Api, admin: asyncpg.Connection) -> None:
    user = uuid.uuid4()
    code = await issue(api, user)
    row = await admin.fetchrow(
        "select code_hash, user_id, expires_at - created_at as ttl from public.console_codes"
        " where user_id = $1",
        user,
    )
    assert row is not None
    assert bytes(row["code_hash"]) == hashlib.sha256(code.encode()).digest()
    assert code.encode() not in bytes(row["code_hash"])
    assert row["ttl"] <= timedelta(seconds=console.CODE_TTL_SECONDS + 1)


async def test_console_link_prints_a_link_the_api_redeems(
    api: Api, pg_dsn: str, tmp_path: Path
) -> None:
    settings = load_settings(
        env_file=None,
        DATABASE_URL=pg_dsn,
        SUPABASE_JWT_SECRET=JWT_SECRET,
        ASKBASE_DATA_DIR=tmp_path,
        HOST="127.0.0.1",
        PORT=8123,
    )
    user = uuid.uuid4()
    link = await asyncio.to_thread(console_link, settings, user)  # the CLI's own loop
    found = re.fullmatch(r"http://127\.0\.0\.1:8123/console/#code=([A-Za-z0-9_-]{43})", link)
    assert found, link
    token = (await api.data(REDEEM, {"code": found[1]}))["redeemConsoleCode"]["accessToken"]
    await api.data(CREATE, token=token)
    public = settings.model_copy(update={"public_url": "https://ask.example/"})
    other = await asyncio.to_thread(console_link, public, user)
    assert other.startswith("https://ask.example/console/#code=")


def test_codes_are_off_where_owners_sign_in_through_supabase_auth(tmp_path: Path) -> None:
    from askbase.app.auth.tokens import load_keys

    common = {"ASKBASE_DATA_DIR": tmp_path, "SUPABASE_JWT_SECRET": JWT_SECRET}
    local = load_settings(env_file=None, **common)
    assert console.codes_enabled(local, load_keys(local))
    supabase = load_settings(
        env_file=None,
        SUPABASE_URL="https://project.supabase.co",
        SUPABASE_SERVICE_ROLE_KEY="service-role-key",
        **common,
    )
    assert not console.codes_enabled(supabase, load_keys(supabase))
