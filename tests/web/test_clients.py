"""Real GraphQL clients against askbase, each with its default settings (their versions
pinned in tests/browser/package-lock.json, so an upgrade of Strawberry that breaks one of
them fails here): urql, Apollo Client with its persisted-query link and its HTTP
subscriptions, and the graphql-ws reference client, alone and through Apollo's
GraphQLWsLink (tests/browser/clients.test.mjs); GraphQL Code Generator's client preset
over a front end's operations, type-checked by `tsc --strict`, whose persisted-documents
manifest a server then runs by hash as its trusted documents (tests/browser/codegen.test.mjs).

`.ci/run` installs node and the npm packages; where they are missing these tests skip
with the reason.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.chat.test_chat_stream import REFUNDS
from tests.conftest import ORIGIN, Api, Tenant, owner_token
from tests.knowledge.test_search import add_text

ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS = ROOT / "tests" / "browser"
ARTIFACTS = ROOT / "test-artifacts" / "clients"
OPERATION = re.compile(r"\b(?:query|mutation|subscription) (\w+)")


@pytest.fixture(autouse=True)
def _node_and_packages() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not (BROWSER_TESTS / "node_modules" / "@urql" / "core").is_dir():
        pytest.skip("npm packages missing: npm ci --prefix tests/browser")


async def run_node(test_file: str, **env: str) -> None:
    """`node --test` on one file of tests/browser; the servers under test run in this
    event loop, so the process is awaited, never waited for."""
    process = await asyncio.create_subprocess_exec(
        "node",
        "--test",
        "--test-reporter=spec",
        test_file,
        cwd=BROWSER_TESTS,
        env={
            **os.environ,
            "ARTIFACTS": str(ARTIFACTS),
            "SCHEMA": str(ROOT / "schema.graphql"),
            **env,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 300)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, output.decode()[-12000:]


def operation_name(document: str) -> str:
    found = OPERATION.search(document)
    assert found, document
    return found[1]


async def test_urql_apollo_and_graphql_ws_with_their_default_settings(
    api: Api, tenant: Tenant
) -> None:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    await run_node(
        "clients.test.mjs",
        ASKBASE_URL=api.base_url,
        ORIGIN=ORIGIN,
        WEBSITE_ID=tenant.website_id,
        QUESTION="How long do refunds take?",
        EXPIRED_TOKEN=owner_token(tenant.owner_id, ttl=-3600),
    )


async def test_codegen_types_compile_and_its_manifest_runs_as_trusted_documents(
    start_api: Callable[..., Any], tenant: Tenant
) -> None:
    await run_node("codegen.test.mjs")
    manifest_path = ARTIFACTS / "client-preset" / "gql" / "persisted-documents.json"
    manifest: dict[str, str] = json.loads(manifest_path.read_text())
    by_name = {operation_name(document): h for h, document in manifest.items()}

    # No APQ registrations on this server: whatever runs by hash comes from the manifest.
    async with start_api(TRUSTED_DOCUMENTS=str(manifest_path), APQ_CACHE_SIZE=0) as trusted:

        async def post(body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
            headers = {"origin": ORIGIN} | ({"authorization": f"Bearer {token}"} if token else {})
            response = await trusted.http.post("/graphql", json=body, headers=headers)
            assert response.status_code == 200, response.text
            answer: dict[str, Any] = response.json()
            return answer

        started = await post(
            {"documentId": by_name["StartSession"], "variables": {"websiteId": tenant.website_id}}
        )
        assert "errors" not in started, started
        session = started["data"]["startSession"]
        assert session["website"]["id"] == tenant.website_id

        persisted = {"version": 1, "sha256Hash": by_name["CreateChat"].removeprefix("sha256:")}
        chat = await post(
            {
                "variables": {"websiteId": tenant.website_id},
                "extensions": {"persistedQuery": persisted},
            },
            session["token"],
        )
        assert "errors" not in chat, chat
        assert chat["data"]["createChat"]["websiteId"] == tenant.website_id

        unknown = await post({"documentId": "sha256:" + "0" * 64})
        assert unknown["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND", unknown
