"""The widget end to end, and real GraphQL tooling: `askbase serve` as a user starts it
(embedded PostgreSQL, demo content), and the Node tests of tests/browser against it:
Debian's chromium (playwright-core, axe-core), the reference graphql-ws client, the
graphql-http audits, Apollo Client, and GraphQL Code Generator with tsc.

`.ci/run` installs chromium and the npm packages; where they are missing these tests skip
with the reason. Screenshots go to test-artifacts/widget/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from askbase.app.tenancy.demo import DEMO_OWNER
from tests.conftest import askbase_process, owner_token

ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS = ROOT / "tests" / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
XSS_DOCUMENT = (
    "The xylophone warranty lasts seven years "
    '<img src=x onerror="window.__xss=4"> <script>window.__xss=5</script> '
    "and covers [every key](javascript:window.__xss=6), see https://example.com/warranty for details."
)
XSS_QUESTION = "How long does the xylophone warranty last?"


def node_tests_missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (BROWSER_TESTS / "node_modules" / "playwright-core").is_dir():
        return "npm packages missing: npm ci --prefix tests/browser"
    return None


def gql(http: httpx.Client, query: str, token: str, **variables: Any) -> dict[str, Any]:
    body = http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    ).json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def wait_until_ready(http: httpx.Client, token: str, website_id: str) -> None:
    query = "query($w: ID!) { documents(websiteId: $w) { nodes { filename status error } } }"
    deadline = time.monotonic() + 180
    while True:
        docs = gql(http, query, token, w=website_id)["documents"]["nodes"]
        if docs and all(d["status"] in ("READY", "FAILED") for d in docs):
            assert all(d["status"] == "READY" for d in docs), docs
            return
        assert time.monotonic() < deadline, docs
        time.sleep(0.2)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`askbase serve` in its own process, as `make serve` runs it, on 127.0.0.1."""
    if reason := node_tests_missing():
        pytest.skip(reason)
    with (
        askbase_process(
            "serve",
            tmp_path_factory.mktemp("served"),
            # HTTP requests carry a client IP of their own per browser context (WebSocket
            # handshakes do not: chromium sends no extra headers there), and the
            # rate-limit test, the last, reaches the per-IP limit soon.
            TRUSTED_PROXY_HEADER="x-test-client-ip",
            TRUSTED_PROXY_CIDRS="127.0.0.1",
            RATE_LIMIT_IP_PER_MINUTE="20",
        ) as url,
        httpx.Client(base_url=url, timeout=10) as http,
    ):
        token = owner_token(DEMO_OWNER)
        website_id = gql(http, "{ websites { id } }", token)["websites"][0]["id"]
        gql(
            http,
            "mutation($w: ID!, $t: String!) "
            '{ addDocumentText(websiteId: $w, filename: "warranty.txt", text: $t) { id } }',
            token,
            w=website_id,
            t=XSS_DOCUMENT,
        )
        wait_until_ready(http, token, website_id)
        yield {"url": url, "website_id": website_id, "owner_token": token}


def run_node(test_file: str, served: dict[str, str]) -> None:
    artifacts = ROOT / "test-artifacts" / "widget"
    env = {
        **os.environ,
        "ASKBASE_URL": served["url"],
        "WEBSITE_ID": served["website_id"],
        "OWNER_TOKEN": served["owner_token"],
        "XSS_QUESTION": XSS_QUESTION,
        "ARTIFACTS": str(artifacts),
        "CHROMIUM": CHROMIUM,
        "SCHEMA": str(ROOT / "schema.graphql"),
    }
    result = subprocess.run(
        ["node", "--test", "--test-reporter=spec", test_file],
        cwd=BROWSER_TESTS,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]


def test_the_widget_in_a_real_browser(served: dict[str, str]) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    run_node("widget.test.mjs", served)


def test_the_widgets_operations_with_the_reference_graphql_ws_client(
    served: dict[str, str],
) -> None:
    run_node("protocol.test.mjs", served)


def test_graphql_http_audits_apollo_client_and_codegen(served: dict[str, str]) -> None:
    run_node("conformance.test.mjs", served)
