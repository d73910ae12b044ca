"""`askbase ingest` and `askbase worker` as real processes against a database of their own."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path

import asyncpg

from askbase.app.runtime.services import apply_migrations
from tests import files
from tests.conftest import JWT_SECRET

ASKBASE = [sys.executable, "-m", "askbase.app.cli"]


def env_for(dsn: str, tmp_path: Path) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH", "TMPDIR")
    return {
        **{k: v for k, v in os.environ.items() if k in keep},
        "DATABASE_URL": dsn,
        "SUPABASE_JWT_SECRET": JWT_SECRET,
        "ASKBASE_DATA_DIR": str(tmp_path / "data"),
    }


async def askbase(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *ASKBASE, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def new_website(dsn: str) -> uuid.UUID:
    await apply_migrations(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        website: uuid.UUID = await conn.fetchval(
            "insert into websites (owner_id, domain, name) values ($1, 'cli.example', 'cli') returning id",
            uuid.uuid4(),
        )
        return website
    finally:
        await conn.close()


async def test_ingest_a_folder_then_resume_without_duplicates(
    fresh_dsn: str, tmp_path: Path
) -> None:
    website = await new_website(fresh_dsn)
    docs = tmp_path / "docs"
    (docs / "nested").mkdir(parents=True)
    (docs / "guide.md").write_bytes(files.markdown("Guide", {"Start": "Run make serve to start."}))
    (docs / "nested" / "faq.html").write_bytes(
        files.html("FAQ", {"Billing": "Invoices are monthly."})
    )
    (docs / "notes.txt").write_text("Plain notes about the product.")
    (docs / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (docs / ".hidden.md").write_text("# Hidden\n\nNot ingested.")
    env = env_for(fresh_dsn, tmp_path)

    code, out, err = await askbase("ingest", str(docs), "--website", str(website), env=env)
    assert code == 0, err
    assert "ready: 3 files" in out and "unsupported: 1" in out
    assert "logo.png" in out

    code, out, err = await askbase("ingest", str(docs), "--website", str(website), env=env)
    assert code == 0, err
    assert "ready: 0 files" in out and "already stored: 3" in out
    conn = await asyncpg.connect(fresh_dsn)
    try:
        assert await conn.fetchval("select count(*) from documents") == 3
        assert await conn.fetchval("select count(*) from document_chunks") == 3
    finally:
        await conn.close()

    code, _, err = await askbase("ingest", str(docs), "--website", str(uuid.uuid4()), env=env)
    assert code == 2 and "does not exist" in err


async def test_a_separate_worker_process_ingests_queued_documents(
    fresh_dsn: str, tmp_path: Path
) -> None:
    website = await new_website(fresh_dsn)
    worker = await asyncio.create_subprocess_exec(
        *ASKBASE,
        "worker",
        "--concurrency",
        "2",
        env=env_for(fresh_dsn, tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        conn = await asyncpg.connect(fresh_dsn)
        try:
            ids = []
            for i in range(4):
                data = f"Document {i} talks about topic {i}.".encode()
                doc = await conn.fetchval(
                    "insert into documents (website_id, filename, content_type, size_bytes) "
                    "values ($1, $2, 'text/plain', $3) returning id",
                    website,
                    f"d{i}.txt",
                    len(data),
                )
                await conn.execute(
                    "insert into document_files (document_id, website_id, data) values ($1, $2, $3)",
                    doc,
                    website,
                    data,
                )
                await conn.execute(
                    "insert into jobs (document_id, website_id) values ($1, $2)", doc, website
                )
                ids.append(doc)
            for _ in range(300):
                ready = await conn.fetchval(
                    "select count(*) from documents where id = any($1::uuid[]) and status = 'ready'",
                    ids,
                )
                if ready == 4:
                    break
                assert worker.returncode is None
                await asyncio.sleep(0.1)
            assert ready == 4
        finally:
            await conn.close()
    finally:
        worker.send_signal(signal.SIGTERM)
        raw, _ = await asyncio.wait_for(worker.communicate(), 30)
    output = raw.decode()
    assert worker.returncode == 0, output
    assert "document ready" in output
