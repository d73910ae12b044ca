"""Python's `gql`, both majors that users run, reads askbase's schema by introspection and
talks to it: gql 3.x (graphql-core 3.2, in a venv of its own, installed once per session
from the hash-pinned tests/clients/gql3-requirements.txt) and gql 4.x (graphql-core 3.3,
the project's own, from requirements-test.lock). The client is tests/clients/gql_client.py."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.chat.test_chat_stream import REFUNDS
from tests.conftest import ORIGIN, ROOT, Api, Tenant, visitor_session
from tests.knowledge.test_search import add_text

CLIENTS = ROOT / "tests" / "clients"


@pytest.fixture(scope="session")
def gql3_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with gql 3.x and graphql-core 3.2 alone, which cannot share the server's."""
    venv = tmp_path_factory.mktemp("gql3") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    requirements = CLIENTS / "gql3-requirements.txt"
    subprocess.run([*install, "--require-hashes", "--no-deps", "-r", str(requirements)], check=True)
    return python


async def run_client(python: Path | str, api: Api, website_id: str, token: str) -> dict[str, Any]:
    given = {
        "http": api.base_url + "/graphql",
        "ws": api.ws_url,
        "website": website_id,
        "token": token,
        "origin": ORIGIN,
    }
    # -I: only the client's own packages, whatever PYTHONPATH or the working directory hold.
    process = await asyncio.create_subprocess_exec(
        str(python),
        "-I",
        str(CLIENTS / "gql_client.py"),
        json.dumps(given),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    result: dict[str, Any] = json.loads(out)
    return result


@pytest.mark.parametrize("major", ["3", "4"])
async def test_gql_fetches_the_schema_and_queries_mutates_and_subscribes(
    api: Api, tenant: Tenant, major: str, request: pytest.FixtureRequest
) -> None:
    python = request.getfixturevalue("gql3_python") if major == "3" else sys.executable
    await add_text(api, tenant, "refunds.md", REFUNDS)
    session = await visitor_session(api, tenant.website_id)

    result = await run_client(python, api, tenant.website_id, session["token"])

    core = {"3": "3.2.", "4": "3.3."}[major]
    assert result["gql"].startswith(f"{major}.") and result["graphql_core"].startswith(core)
    assert result["website"]["id"] == tenant.website_id
    assert result["chat"]["websiteId"] == tenant.website_id
    assert all("noSuchField" in message for message in result["refused"]), result["refused"]
    assert "chatStream" in result["subscriptions"]
    kinds = [event["__typename"] for event in result["events"]]
    assert kinds[0] == "SourcesFound" and kinds[-1] == "MessageDone", kinds
    assert "five working days" in result["events"][-1]["message"]["content"]
