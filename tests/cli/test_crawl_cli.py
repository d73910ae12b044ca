"""`askbase crawl` as a real process: a real site on 127.0.0.1, a database of its own."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import asyncpg

from tests.cli.test_cli_ingest import ASKBASE, askbase, env_for, new_website
from tests.knowledge.site import HTML, Page, html, serve

Served = Callable[[str], Page]
TOPICS = ("zebra", "kumquat", "platypus", "wombat", "narwhal", "quokka")


def pages_about(topics: tuple[str, ...], delay: float = 0.0) -> dict[str, Page | Served]:
    def page(topic: str) -> Served:
        def serve_page(_path: str) -> Page:
            if delay:
                time.sleep(delay)  # each request has a thread of its own
            return 200, HTML, html(topic.title(), f"The {topic} page explains {topic} care.")

        return serve_page

    links = tuple(f"/docs/{t}" for t in topics)
    site: dict[str, Page | Served] = {"/docs/": (200, HTML, html("Docs", "The docs home.", links))}
    for topic in topics:
        site[f"/docs/{topic}"] = page(topic)
    return site


async def stored_pages(dsn: str) -> dict[str, tuple[str, str | None]]:
    """url -> (state, document status) of every page of every source."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "select p.url, p.state, d.status from source_pages p "
            "left join documents d on d.id = p.document_id"
        )
    finally:
        await conn.close()
    return {r["url"]: (r["state"], r["status"]) for r in rows}


async def test_crawl_stores_a_site_then_syncs_it_incrementally(
    fresh_dsn: str, tmp_path: Path
) -> None:
    website = await new_website(fresh_dsn)
    env = {**env_for(fresh_dsn, tmp_path), "CRAWL_ALLOWED_PRIVATE_HOSTS": "127.0.0.1"}
    pages = pages_about(TOPICS[:3])
    with serve(pages) as site:
        start = site.base + "/docs/"
        code, out, err = await askbase("crawl", start, "--website", str(website), env=env)
        assert code == 0, out + err
        assert "fetched 4 pages; stored: 4 (4 chunks); unchanged: 0" in out, out
        found = await stored_pages(fresh_dsn)
        assert found == {
            start: ("stored", "ready"),
            **{f"{site.base}/docs/{t}": ("stored", "ready") for t in TOPICS[:3]},
        }

        # Again: the same source, conditional requests, nothing stored or embedded.
        code, out, err = await askbase("crawl", start, "--website", str(website), env=env)
        assert code == 0, out + err
        assert "fetched 4 pages; stored: 0 (0 chunks); unchanged: 4" in out, out
        second = [h for _, p, h in site.requests if p == "/docs/zebra"][1]
        assert {k.lower() for k in second} >= {"if-none-match"}

        # The home page changes: one page is no longer linked (removed), one link is broken
        # (a failure: exit 1, the page named).
        del pages["/docs/zebra"]
        pages["/docs/"] = (
            200,
            HTML,
            html("Docs", "The docs home.", ("/docs/kumquat", "/docs/platypus", "/docs/missing")),
        )
        code, out, err = await askbase("crawl", start, "--website", str(website), env=env)
        assert code == 1, out + err
        assert "stored: 1 (1 chunks); unchanged: 2; skipped: 0; removed: 1; failed: 1" in out
        assert f"{site.base}/docs/missing: Not found (HTTP 404)." in out

    conn = await asyncpg.connect(fresh_dsn)
    try:
        assert await conn.fetchval("select count(*) from website_sources") == 1
        assert await conn.fetchval("select count(*) from documents") == 3
        assert await conn.fetchval("select count(*) from document_chunks") == 3
    finally:
        await conn.close()


async def test_crawl_refuses_bad_input_with_a_reason(fresh_dsn: str, tmp_path: Path) -> None:
    website = await new_website(fresh_dsn)
    env = env_for(fresh_dsn, tmp_path)  # 127.0.0.1 not allowed here
    with serve(pages_about(TOPICS[:1])) as site:
        code, _, err = await askbase("crawl", site.base, "--website", str(website), env=env)
        assert code == 2 and "private or reserved address" in err, err
        assert site.requests == []
    code, _, err = await askbase(
        "crawl", "https://example.com/", "--website", str(uuid.uuid4()), env=env
    )
    assert code == 2 and "does not exist" in err, err
    code, _, err = await askbase(
        "crawl", "ftp://example.com/", "--website", str(website), "--kind", "page", env=env
    )
    assert code == 2 and "only http and https" in err, err


async def test_an_interrupted_crawl_resumes_where_it_stopped(
    fresh_dsn: str, tmp_path: Path
) -> None:
    website = await new_website(fresh_dsn)
    env = {**env_for(fresh_dsn, tmp_path), "CRAWL_ALLOWED_PRIVATE_HOSTS": "127.0.0.1"}
    with serve(pages_about(TOPICS, delay=0.5)) as site:
        start = site.base + "/docs/"
        process = await asyncio.create_subprocess_exec(
            *ASKBASE,
            "crawl",
            start,
            "--website",
            str(website),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(600):
            states = [state for state, _ in (await stored_pages(fresh_dsn)).values()]
            if states.count("stored") >= 3:
                break
            assert process.returncode is None
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 130, out.decode() + err.decode()
        assert "the same command resumes the sync" in err.decode()
        before = {p for _, p, _ in site.requests if p.startswith("/docs/")}
        assert len(before) < len(TOPICS) + 1  # interrupted before the end

        code, out_text, err_text = await askbase("crawl", start, "--website", str(website), env=env)
        assert code == 0, out_text + err_text
        assert out_text.startswith("resumed ") and "stored: 7 (7 chunks)" in out_text, out_text
        fetched = [p for _, p, _ in site.requests if p.startswith("/docs/")]
        # Pages done before the interruption are not fetched again (one was in flight).
        assert len(fetched) <= len(TOPICS) + 2, fetched
        assert set(fetched) == {"/docs/", *(f"/docs/{t}" for t in TOPICS)}
    found = await stored_pages(fresh_dsn)
    assert len(found) == len(TOPICS) + 1
    assert set(found.values()) == {("stored", "ready")}
