"""A small website served on 127.0.0.1 for the website-source tests (a real HTTP server)."""

from __future__ import annotations

import gzip
import hashlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

Page = tuple[int, dict[str, str], bytes]


def html(title: str, text: str, links: tuple[str, ...] = (), extra: str = "") -> bytes:
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>{extra}</head><body>"
        f"<nav><ul>{anchors}</ul></nav><main><h1>{title}</h1><p>{text}</p></main>"
        "</body></html>"
    ).encode()


@dataclass
class Site:
    base: str
    pages: dict[str, Page | Callable[[str], Page]]
    requests: list[tuple[float, str, dict[str, str]]] = field(default_factory=list)

    def requested(self, path: str) -> int:
        return sum(1 for _, p, _ in self.requests if p == path)


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append((time.monotonic(), self.path, dict(self.headers.items())))
            parts = urlsplit(self.path)
            found = site.pages.get(self.path) or site.pages.get(parts.path)
            if callable(found):
                found = found(self.path)
            status, headers, body = found or (404, {"content-type": "text/plain"}, b"no")
            if status == 200:
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                headers = {"etag": etag, **headers}
                if self.headers.get("if-none-match") == etag:
                    status, body = 304, b""
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve(
    pages: dict[str, Page | Callable[[str], Page]], host: str = "127.0.0.1"
) -> Iterator[Site]:
    server = ThreadingHTTPServer((host, 0), _handler(Site("", {})))
    site = Site(f"http://{host}:{server.server_address[1]}", pages)
    server.RequestHandlerClass = _handler(site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def silent_listener(host: str = "127.0.0.2") -> Iterator[tuple[int, list[object]]]:
    """A listening socket that records every connection made to it (none expected)."""
    sock = socket.socket()
    sock.bind((host, 0))
    sock.listen()
    sock.settimeout(0.1)
    seen: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = sock.accept()
            except OSError:
                continue
            seen.append(peer)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], seen
    finally:
        stop.set()
        thread.join()
        sock.close()


HTML = {"content-type": "text/html; charset=utf-8"}


def docs_site(base_holder: list[str]) -> dict[str, Page | Callable[[str], Page]]:
    """The docs: pages linking to each other, robots.txt (a Disallow, Crawl-delay), a
    sitemap index with a gzipped sitemap, a redirect, a 429 with Retry-After, a broken
    link, an endless calendar, and a page outside the path prefix."""
    busy_calls: list[int] = []

    def busy(_path: str) -> Page:
        busy_calls.append(1)
        if len(busy_calls) == 1:
            return 429, {"retry-after": "1", "content-type": "text/plain"}, b"slow down"
        return 200, HTML, html("Busy page", "The busy page answers after a pause.")

    def calendar(path: str) -> Page:
        month = int(parse_qs(urlsplit(path).query).get("month", ["1"])[0])
        return (
            200,
            HTML,
            html(f"Calendar {month}", "Nothing here.", (f"/docs/calendar?month={month + 1}",)),
        )

    def sitemap_index(_path: str) -> Page:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{base_holder[0]}/sitemap-docs.xml.gz</loc></sitemap></sitemapindex>"
        ).encode()
        return 200, {"content-type": "application/xml"}, body

    def sitemap(_path: str) -> Page:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{base_holder[0]}/docs/install</loc></url>"
            f"<url><loc>{base_holder[0]}/docs/pricing</loc></url></urlset>"
        ).encode()
        return 200, {"content-type": "application/gzip"}, gzip.compress(body)

    def robots(_path: str) -> Page:
        body = (
            "User-agent: *\nDisallow: /docs/private\nCrawl-delay: 1\n"
            f"Sitemap: {base_holder[0]}/sitemap-index.xml\n"
        ).encode()
        return 200, {"content-type": "text/plain"}, body

    return {
        "/robots.txt": robots,
        "/sitemap-index.xml": sitemap_index,
        "/sitemap-docs.xml.gz": sitemap,
        "/docs/": (
            200,
            HTML,
            html(
                "Docs home",
                "Welcome to the documentation.",
                (
                    "/docs/install",
                    "/docs/pricing?utm_source=newsletter#plans",
                    "/docs/private/secret",
                    "/outside/page",
                    "/docs/calendar?month=1",
                    "/docs/old",
                    "/docs/busy",
                    "/docs/missing",
                ),
            ),
        ),
        "/docs/install": (
            200,
            HTML,
            html("Install", "Install askbase with the zebra frobnicator command.", ("/docs/",)),
        ),
        "/docs/pricing": (
            200,
            HTML,
            html(
                "Pricing", "The price is forty-two platypus coins per month.", ("/docs/install/",)
            ),
        ),
        "/docs/old": (301, {"location": "/docs/moved"}, b""),
        "/docs/moved": (200, HTML, html("Moved", "The moved page holds the kumquat recipe.")),
        "/docs/busy": busy,
        "/docs/calendar": calendar,
        "/docs/private/secret": (200, HTML, html("Secret", "Never to be fetched.")),
        "/outside/page": (200, HTML, html("Outside", "Outside the path prefix.")),
    }
