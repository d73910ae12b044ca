"""GraphiQL from vendored files (app/web/graphiql.py): off in production unless GRAPHIQL
is set, a page that names nothing outside this server, files that are the ones VERSIONS
lists, and the IDE at work in Debian's chromium with every other host unreachable
(tests/browser/graphiql.test.mjs)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from askbase.app.web.graphiql import FOLDER, SCRIPTS, STYLES
from tests.conftest import Api, Tenant
from tests.web.test_widget_browser import BROWSER_TESTS, CHROMIUM, ROOT, node_tests_missing

HTML = {"accept": "text/html"}
ASSETS = (*STYLES, *SCRIPTS)


def referenced(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


async def test_graphiql_is_off_in_production_unless_enabled(start_api: Any) -> None:
    async with start_api(ENVIRONMENT="production") as production:
        response = await production.http.get("/graphql", headers=HTML)
        assert response.status_code == 404
        assert "graphiql" not in response.text.lower()
        for name in ASSETS:
            assert (await production.http.get(f"/graphiql/assets/{name}")).status_code == 404
    async with start_api(ENVIRONMENT="production", GRAPHIQL="true") as enabled:
        response = await enabled.http.get("/graphql", headers=HTML)
        assert response.status_code == 200 and "GraphiQL" in response.text
        assert (await enabled.http.get("/graphiql/assets/graphiql.min.js")).status_code == 200
    async with start_api(GRAPHIQL="false") as development:
        assert (await development.http.get("/graphql", headers=HTML)).status_code == 404


async def test_the_page_and_every_file_it_loads_come_from_this_server(api: Api) -> None:
    response = await api.http.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "<script>" not in response.text  # every script is a file of its own
    hosts = {
        urlsplit(url).hostname for url in re.findall(r"""https?://[^\s"'<>]+""", response.text)
    }
    assert hosts <= {"127.0.0.1", "localhost"}, hosts

    page_url = api.base_url + "/graphql"
    urls = referenced(response.text)
    loaded = {urlsplit(url).path.rsplit("/", 1)[-1] for url in urls if url != "data:,"}
    assert loaded == set(ASSETS)
    for url in urls:
        if url == "data:,":
            continue
        absolute = urljoin(page_url, url)
        assert urlsplit(absolute).netloc == urlsplit(page_url).netloc
        asset = await api.http.get(absolute, headers={"accept-encoding": "identity"})
        assert asset.status_code == 200, url
        kind = "text/css" if url.split("?")[0].endswith(".css") else "text/javascript"
        assert asset.headers["content-type"] == f"{kind}; charset=utf-8"
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert asset.headers["x-content-type-options"] == "nosniff"
        name = urlsplit(url).path.rsplit("/", 1)[-1]
        assert asset.content == (FOLDER / name).read_bytes()
        # The query string names the content: a changed file is a new URL.
        assert url.endswith("?v=" + hashlib.sha256(asset.content).hexdigest()[:20])
        again = await api.http.get(absolute, headers={"if-none-match": asset.headers["etag"]})
        assert again.status_code == 304


async def test_files_are_gzipped_for_clients_that_accept_it(api: Api) -> None:
    response = await api.http.get(
        "/graphiql/assets/graphiql.min.js", headers={"accept-encoding": "gzip"}
    )
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == (FOLDER / "graphiql.min.js").read_bytes()  # httpx decodes it
    assert int(response.headers["content-length"]) < len(response.content) // 3


async def test_unknown_files_are_not_found(api: Api) -> None:
    for name in ("VERSIONS", "graphiql.min.js.map", "..%2Fgraphiql.py", "licenses"):
        assert (await api.http.get(f"/graphiql/assets/{name}")).status_code == 404


def test_vendored_files_are_the_versions_listed_with_their_licenses() -> None:
    rows = [
        line.split()
        for line in (FOLDER / "VERSIONS").read_text().splitlines()
        if re.fullmatch(r"\S+\.(js|css) .* [0-9a-f]{64}", line)
    ]
    listed = {row[0] for row in rows}
    assert listed == {name for name in ASSETS if not name.startswith("askbase-")}
    for file, _package, version, _origin, license_file, sha256 in rows:
        assert re.fullmatch(r"\d+\.\d+\.\d+", version)
        assert hashlib.sha256((FOLDER / file).read_bytes()).hexdigest() == sha256, file
        assert "Permission is hereby granted" in (FOLDER / license_file).read_text()


def chromium_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing: apt-get install chromium"
    return node_tests_missing()


async def test_graphiql_offline_in_chromium(api: Api, tenant: Tenant) -> None:
    if reason := chromium_missing():
        pytest.skip(reason)
    process = await asyncio.create_subprocess_exec(
        "node",
        "--test",
        "--test-reporter=spec",
        "graphiql.test.mjs",
        cwd=BROWSER_TESTS,
        env={
            **os.environ,
            "ASKBASE_URL": api.base_url,
            "OWNER_TOKEN": tenant.owner,
            "WEBSITE_ID": tenant.website_id,
            "ARTIFACTS": str(ROOT / "test-artifacts" / "graphiql"),
            "CHROMIUM": CHROMIUM,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=180)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, output.decode()[-8000:]
