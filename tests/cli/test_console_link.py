"""Console sign-in links as a user gets them: the one `askbase serve` prints, and
`askbase console-link` run beside it on the same embedded database."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.test_cli import ASKBASE, run
from tests.conftest import free_socket

LINK = re.compile(r"http://127\.0\.0\.1:(\d+)/console/#code=([A-Za-z0-9_-]{43})")
REDEEM = "mutation($code: String!) { redeemConsoleCode(code: $code) { accessToken } }"


def redeem(url: str, code: str) -> Any:
    return httpx.post(
        f"{url}/graphql", json={"query": REDEEM, "variables": {"code": code}}, timeout=10
    ).json()


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH", "TMPDIR")
    return {**{k: v for k, v in os.environ.items() if k in keep}, "ASKBASE_DATA_DIR": str(tmp_path)}


def test_serve_and_console_link_print_links_that_sign_in_once(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    with free_socket() as sock:
        port = sock.getsockname()[1]
    env = {**clean_env, "PORT": str(port)}
    log = tmp_path / "serve.log"  # beside the data dir
    with log.open("w") as out:
        process = subprocess.Popen([*ASKBASE, "serve"], env=env, stdout=out, stderr=out)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while not (printed := LINK.search(log.read_text())):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert printed[1] == str(port)
        while httpx.get(f"{url}/health/db", timeout=2).status_code != 200:
            time.sleep(0.2)
        assert redeem(url, printed[2])["data"]["redeemConsoleCode"]["accessToken"]

        result = run(["console-link"], env)
        assert result.returncode == 0, result.stderr
        fresh = LINK.fullmatch(result.stdout.strip())
        assert fresh, result.stdout
        assert redeem(url, fresh[2])["data"]["redeemConsoleCode"]["accessToken"]
        again = redeem(url, fresh[2])
        assert again["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

        bad = run(["console-link", "--user-id", "nope"], env)
        assert bad.returncode == 2 and "--user-id must be a UUID" in bad.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
