"""The console at /console/: served from console/dist (strict CSP, hashed assets cached for
good), and dist/ is exactly what console/src builds, with types generated from the
committed schema and checked by tsc --strict (where node and console/node_modules are)."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from askbase.app.web.console import Console
from tests.conftest import Api

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "console"


def node_missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (CONSOLE / "node_modules" / "esbuild").is_dir():
        return "npm packages missing: npm ci --prefix console"
    return None


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=CONSOLE, capture_output=True, text=True, timeout=300)


async def test_the_page_has_a_strict_policy_and_names_hashed_assets(api: Api) -> None:
    response = await api.http.get("/console/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["referrer-policy"] == "no-referrer"
    assets = re.findall(r'(?:src|href)="(assets/[^"]+)"', response.text)
    assert {Path(a).suffix for a in assets} == {".js", ".css"}
    assert "<script>" not in response.text and "style=" not in response.text
    for asset in assets:
        served = await api.http.get(f"/console/{asset}", headers={"accept-encoding": "gzip"})
        assert served.status_code == 200, asset
        assert "immutable" in served.headers["cache-control"]
        assert served.headers["content-encoding"] == "gzip"
        again = await api.http.get(
            f"/console/{asset}", headers={"if-none-match": served.headers["etag"]}
        )
        assert again.status_code == 304
    assert (await api.http.get("/console/assets/nope.js")).status_code == 404
    moved = await api.http.get("/console", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "console/"


def test_without_a_build_the_console_says_how_to_make_one(tmp_path: Path) -> None:
    assert Console.read(tmp_path).page is None


def test_the_bundle_stays_within_its_budget() -> None:
    total = sum(
        len(gzip.compress(path.read_bytes(), 9)) for path in (CONSOLE / "dist" / "assets").iterdir()
    )
    assert total <= 80_000, total


def test_dist_is_what_the_sources_build() -> None:
    """The committed build, the generated types and the sources agree: codegen from
    schema.graphql changes nothing in src/gql, tsc --strict passes, and esbuild gives
    dist/ byte for byte."""
    if reason := node_missing():
        pytest.skip(reason)
    generated = CONSOLE / "src" / "gql"
    before = {p.name: p.read_bytes() for p in generated.iterdir()}
    codegen = run("node_modules/.bin/graphql-codegen", "--config", "codegen.ts")
    assert codegen.returncode == 0, codegen.stdout + codegen.stderr
    after = {p.name: p.read_bytes() for p in generated.iterdir()}
    assert after == before, "src/gql drifted from schema.graphql: run `make console`"
    tsc = run("node_modules/.bin/tsc", "--noEmit", "-p", ".")
    assert tsc.returncode == 0, tsc.stdout + tsc.stderr
    check = run("node", "build.mjs", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
