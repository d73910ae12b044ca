"""A sync of one website source: discover its pages, fetch them politely, and store each
page that changed as an ordinary document (ingestion then parses, chunks and embeds it).

Re-syncs are incremental: conditional requests (ETag / Last-Modified) and a content hash
leave unchanged pages alone (no write, no embedding); pages gone from the site, or no
longer wanted, are REMOVED with their documents. Fetching goes through the guard only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections import deque
from datetime import datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import version
from typing import TYPE_CHECKING

import asyncpg
import structlog

from askbase.app.knowledge.ingest.detect import UnsupportedFile, detect
from askbase.app.knowledge.sources.discover import (
    Robots,
    key,
    normalize,
    read_page,
    read_robots,
    read_sitemap,
    wanted,
    within,
)
from askbase.app.knowledge.sources.fetch import (
    FetchFailed,
    Guard,
    Refused,
    Response,
    parse_allowed,
    user_agent,
)
from askbase.app.knowledge.storage import object_path
from askbase.database import documents, jobs, sources

if TYPE_CHECKING:
    from askbase.app.knowledge.ingest.worker import Ingestion

log = structlog.get_logger("askbase.sources")

RETRIES = 2  # after a 429 or 503
HTML_TYPES = ("text/html", "application/xhtml+xml")
FILE_TYPES = (
    "application/pdf",
    "text/plain",
    "text/markdown",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)


def make_guard(ingestion: Ingestion) -> Guard:
    settings = ingestion.settings
    return Guard(
        allowed_hosts=parse_allowed(settings.crawl_allowed_private_hosts),
        user_agent=user_agent(version("askbase")),
        max_bytes=settings.crawl_max_page_bytes,
        timeout_seconds=settings.crawl_timeout_seconds,
        max_redirects=settings.crawl_max_redirects,
    )


async def run_sync_job(ingestion: Ingestion, job: asyncpg.Record, worker: str) -> None:
    """Run a claimed sync job to its end: the source is IDLE or FAILED afterwards."""
    source_id: uuid.UUID = job["source_id"]
    async with ingestion.db.service() as conn:
        source = await sources.start_sync(conn, source_id)
    if source is None:  # deleted meanwhile
        async with ingestion.db.service() as conn:
            await jobs.finish(conn, job["id"], worker, "done", None)
        return
    guard = make_guard(ingestion)
    heartbeat = asyncio.create_task(_heartbeat(ingestion, job["id"], worker))
    state, error = "idle", None
    try:
        await Sync(ingestion, guard, source).run()
    except asyncio.CancelledError:
        async with ingestion.db.service() as conn:
            await jobs.retry_later(conn, job["id"], worker, 0, "interrupted")
        raise
    except (Refused, FetchFailed) as failure:
        state, error = "failed", f"The site could not be read: {failure}."
    except Exception:
        log.exception("sync failed", source_id=str(source_id))
        state, error = "failed", "The sync stopped on an internal error."
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
        await guard.aclose()
    async with ingestion.db.service() as conn:
        await sources.finish_sync(conn, source_id, state, error)
        await jobs.finish(conn, job["id"], worker, "done" if error is None else "failed", error)
    log.info("sync finished", source_id=str(source_id), state=state)


async def _heartbeat(ingestion: Ingestion, job_id: uuid.UUID, worker: str) -> None:
    interval = max(0.5, ingestion.settings.ingest_lease_seconds / 3)
    while True:
        await asyncio.sleep(interval)
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            async with ingestion.db.service() as conn:
                await jobs.heartbeat(conn, job_id, worker)


def retry_after(response: Response, cap: float) -> float:
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return min(float(value), cap)
    with contextlib.suppress(TypeError, ValueError, IndexError):
        when = parsedate_to_datetime(value)
        return max(0.0, min((when - datetime.now(when.tzinfo)).total_seconds(), cap))
    return min(1.0, cap)


class Sync:
    def __init__(self, ingestion: Ingestion, guard: Guard, source: asyncpg.Record) -> None:
        self.ingestion = ingestion
        self.settings = ingestion.settings
        self.guard = guard
        self.source = source
        self.source_id: uuid.UUID = source["id"]
        self.website_id: uuid.UUID = source["website_id"]
        self.sync_at: datetime = source["sync_started_at"]
        self.start: str = normalize(source["url"]) or source["url"]
        self.include: list[str] = list(source["include_patterns"])
        self.exclude: list[str] = list(source["exclude_patterns"])
        self.robots = Robots(None, guard.user_agent)
        self.last_request = 0.0
        self.done: set[str] = set()
        self.answered = 0  # pages the site served (200 or 304)

    async def run(self) -> None:
        self.robots = await self.read_robots()
        kind = self.source["kind"]
        queue: deque[tuple[str, int]] = deque()
        if kind == "sitemap":
            queue.extend((url, 0) for url in await self.sitemap_urls())
        else:
            queue.append((self.start, 0))
        queued = {key(url) for url, _ in queue}
        limit = self.source["max_pages"]
        while queue and len(self.done) < limit:
            url, depth = queue.popleft()
            if key(url) in self.done:
                continue
            links = await self.visit(url, depth)
            if kind != "crawl" or depth >= self.settings.crawl_max_depth:
                continue
            for link in links:
                if key(link) not in queued and self.keeps(link):
                    queued.add(key(link))
                    queue.append((link, depth + 1))
        if self.answered == 0 and len(self.done) > 0:
            # Nothing was served (the site is down?): keep every page rather than remove all.
            raise FetchFailed("no page could be fetched; nothing was changed")
        await self.remove_unseen()

    def wants(self, url: str) -> bool:
        return wanted(url, self.include, self.exclude)

    def keeps(self, url: str) -> bool:
        return within(url, self.start) and self.wants(url)

    async def read_robots(self) -> Robots:
        root = self.start.split("/", 3)
        try:
            response = await self.fetch(f"{root[0]}//{root[2]}/robots.txt", {})
        except (Refused, FetchFailed):
            return Robots(None, self.guard.user_agent)
        if response.status != 200:
            return Robots(None, self.guard.user_agent)
        return read_robots(response.body.decode("utf-8", "replace"), self.guard.user_agent)

    async def sitemap_urls(self) -> list[str]:
        """The pages of the sitemap (the source URL when it is one, else robots.txt's
        Sitemap: lines, else /sitemap.xml), following sitemap indexes."""
        root = self.start.split("/", 3)
        looks_like = self.start.endswith((".xml", ".xml.gz")) or "sitemap" in self.start
        todo = deque(
            [self.source["url"]]
            if looks_like
            else (self.robots.sitemaps or [f"{root[0]}//{root[2]}/sitemap.xml"])
        )
        pages: list[str] = []
        read = 0
        while todo and read < 50 and len(pages) < self.source["max_pages"] * 4:
            sitemap = todo.popleft()
            read += 1
            try:
                response = await self.fetch(sitemap, {})
            except (Refused, FetchFailed) as error:
                log.info("sitemap unreadable", url=sitemap, reason=str(error))
                continue
            if response.status != 200:
                continue
            found, nested = await asyncio.to_thread(read_sitemap, response.body)
            todo.extend(nested)
            for url in found:
                page = normalize(url)
                if page is not None and self.wants(page) and page not in pages:
                    pages.append(page)
        return pages

    async def fetch(self, url: str, headers: dict[str, str]) -> Response:
        """One polite request: Crawl-delay between requests, Retry-After on 429/503."""
        for attempt in range(RETRIES + 1):
            delay = min(self.robots.delay, self.settings.crawl_max_delay_seconds)
            loop = asyncio.get_running_loop()
            wait = self.last_request + delay - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self.last_request = loop.time()
            response = await self.guard.get(url, headers)
            if response.status not in (429, 503) or attempt == RETRIES:
                return response
            await asyncio.sleep(retry_after(response, self.settings.crawl_max_retry_seconds))
        raise AssertionError("unreachable")

    async def save(self, url: str, state: str, **fields: object) -> None:
        async with self.ingestion.db.service() as conn:
            await sources.save_page(
                conn,
                source_id=self.source_id,
                website_id=self.website_id,
                url=url,
                sync_at=self.sync_at,
                state=state,
                **fields,  # type: ignore[arg-type]
            )

    async def visit(self, url: str, depth: int) -> list[str]:
        """Fetch one page and record what became of it; its links (for a crawl)."""
        self.done.add(key(url))
        if not self.robots.allowed(url):
            await self.save(url, "skipped", error="robots.txt disallows this page")
            return []
        async with self.ingestion.db.service() as conn:
            known = await sources.page_by_url(conn, self.source_id, url)
        if known is not None and known["sync_at"] == self.sync_at:
            return list(known["links"] or [])  # done before this sync was interrupted
        headers = {}
        if known is not None and known["state"] in ("stored", "unchanged"):
            if known["etag"]:
                headers["if-none-match"] = known["etag"]
            if known["last_modified"]:
                headers["if-modified-since"] = known["last_modified"]
        try:
            response = await self.fetch(url, headers)
        except Refused as refused:
            await self.save(url, "skipped", error=f"Refused: {refused}.")
            return []
        except FetchFailed as failed:
            state = "skipped" if "larger than" in str(failed) else "failed"
            await self.save(url, state, error=f"{str(failed).capitalize()}.")
            return []
        final = normalize(response.url) or url
        if key(final) != key(url):  # redirected: stored under the final URL
            if key(final) in self.done or (not self.keeps(final) and depth > 0):
                return []
            self.done.add(key(final))
            url = final
            async with self.ingestion.db.service() as conn:
                known = await sources.page_by_url(conn, self.source_id, url)
        status = response.status
        if status == 304 and known is not None:
            self.answered += 1
            await self.save(url, "unchanged", http_status=status)
            return list(known["links"] or [])
        if status in (404, 410):
            self.answered += 1
            if known is not None and known["state"] not in ("removed", "failed", "skipped"):
                async with self.ingestion.db.service() as conn:
                    await sources.remove_page(conn, known["id"], self.sync_at, status)
            else:
                await self.save(
                    url, "failed", http_status=status, error=f"Not found (HTTP {status})."
                )
            return []
        if status != 200:
            await self.save(
                url, "failed", http_status=status, error=f"The server answered HTTP {status}."
            )
            return []
        return await self.store(url, response, known)

    async def store(self, url: str, response: Response, known: asyncpg.Record | None) -> list[str]:
        self.answered += 1
        kind = response.content_type
        body = response.body
        title: str | None = None
        links: list[str] = []
        anchors: dict[str, str] = {}
        if kind in HTML_TYPES:
            info = await asyncio.to_thread(read_page, body, url)
            canonical = info.canonical
            if (
                canonical
                and key(canonical) != key(url)
                and key(canonical) not in self.done
                and self.keeps(canonical)
            ):
                return [canonical, *info.links]  # the canonical page stands for this one
            if info.noindex:
                await self.save(
                    url, "skipped", http_status=200, error="The page asks not to be indexed."
                )
                return info.links
            title, links, anchors = info.title, info.links, info.anchors
        elif kind not in FILE_TYPES:
            await self.save(
                url,
                "skipped",
                http_status=200,
                error=f"Not a page or document that can be read ({kind or 'no content type'}).",
            )
            return []
        sha = hashlib.sha256(body).hexdigest()
        validators = {
            "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"),
        }
        if known is not None and known["sha256"] == sha and known["document_id"] is not None:
            await self.save(
                url, "unchanged", http_status=200, title=title, links=links, **validators
            )
            return links
        filename = (title or url)[:255].strip() or url[:255]
        try:
            mime = detect(body, filename + (".html" if kind in HTML_TYPES else "")).mime
        except UnsupportedFile as error:
            await self.save(
                url, "skipped", http_status=200, error=f"Cannot read this page: {error}."
            )
            return links
        await self.write_document(
            known["document_id"] if known is not None else None,
            url,
            filename,
            mime,
            body,
            sha,
            anchors,
            title=title,
            links=links,
            etag=validators["etag"],
            last_modified=validators["last_modified"],
        )
        return links

    async def write_document(
        self,
        existing: uuid.UUID | None,
        url: str,
        filename: str,
        mime: str,
        data: bytes,
        sha: str,
        anchors: dict[str, str],
        *,
        title: str | None,
        links: list[str],
        etag: str | None,
        last_modified: str | None,
    ) -> None:
        """A new document for the page, or the page's document with its new content; its
        ingestion is queued and the page recorded as STORED in the same transaction."""
        store = self.ingestion.store
        storage = "postgres" if store is None else store.kind
        async with self.ingestion.db.service() as conn:
            if existing is not None and not await documents.by_ids(conn, [existing]):
                existing = None
        document_id = existing or uuid.uuid4()
        if store is not None:
            await store.put(object_path(self.website_id, document_id), data, mime)
        async with self.ingestion.db.service() as conn:
            if existing is None:
                await documents.insert(
                    conn,
                    document_id=document_id,
                    website_id=self.website_id,
                    filename=filename,
                    content_type=mime,
                    data=data,
                    sha256=sha,
                    storage=storage,
                )
            await sources.store_document(
                conn,
                document_id,
                source_url=url,
                filename=filename,
                content_type=mime,
                data=data,
                sha256=sha,
                storage=storage,
                anchors=anchors,
            )
            await jobs.enqueue(conn, document_id, self.website_id)
            await sources.save_page(
                conn,
                source_id=self.source_id,
                website_id=self.website_id,
                url=url,
                sync_at=self.sync_at,
                state="stored",
                http_status=200,
                title=title,
                etag=etag,
                last_modified=last_modified,
                sha256=sha,
                links=links,
                document_id=document_id,
            )

    async def remove_unseen(self) -> None:
        async with self.ingestion.db.service() as conn:
            for page in await sources.unseen_pages(conn, self.source_id, self.sync_at):
                await sources.remove_page(conn, page["id"], self.sync_at, None)
