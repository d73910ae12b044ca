"""The owners' console in Debian's chromium: tests/browser/console.test.mjs against a
running askbase, signed in through a link from `askbase console-link`'s function.

Where chromium or the npm packages of tests/browser are missing, it skips with the
reason. Screenshots go to test-artifacts/console/.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from askbase.app.cli.console import console_link
from askbase.app.core.settings import load_settings
from tests.conftest import JWT_SECRET, Api, owner_token
from tests.web.test_graphiql import chromium_missing
from tests.web.test_widget_browser import BROWSER_TESTS, CHROMIUM, ROOT


async def test_the_console_in_chromium(api: Api, pg_dsn: str, tmp_path: Path) -> None:
    if reason := chromium_missing():
        pytest.skip(reason)
    where = urlsplit(api.base_url)
    settings = load_settings(
        env_file=None,
        DATABASE_URL=pg_dsn,
        SUPABASE_JWT_SECRET=JWT_SECRET,
        ASKBASE_DATA_DIR=str(tmp_path),
        HOST=where.hostname,
        PORT=where.port,
    )
    link = await asyncio.to_thread(console_link, settings, uuid.uuid4())
    process = await asyncio.create_subprocess_exec(
        "node",
        "--test",
        "--test-reporter=spec",
        "console.test.mjs",
        cwd=BROWSER_TESTS,
        env={
            **os.environ,
            "CONSOLE_LINK": link,
            "OWNER_TOKEN": owner_token(),
            "ARTIFACTS": str(ROOT / "test-artifacts" / "console"),
            "CHROMIUM": CHROMIUM,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, output.decode()[-8000:]
