"""Finding pages: URL normalisation, links and canonical of a page, sitemaps, robots.txt."""

from __future__ import annotations

import fnmatch
import gzip
import io
import posixpath
import urllib.robotparser
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser

TRACKING = ("utm_", "mc_", "_hs")
TRACKING_NAMES = frozenset({"fbclid", "gclid", "dclid", "msclkid", "yclid", "ref", "_ga"})
MAX_SITEMAP_BYTES = 20_000_000


def normalize(url: str, base: str | None = None) -> str | None:
    """One spelling per page: absolute, no fragment, lower-case host, no default port,
    no tracking parameters, sorted query (trailing slashes: see `key`)."""
    try:
        parts = urlsplit(urljoin(base, url.strip()) if base else url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != (443 if scheme == "https" else 80):
        host = f"{host}:{port}"
    path = parts.path or "/"
    if "/." in path:
        path = posixpath.normpath(path) + ("/" if path.endswith("/") else "")
    query = urlencode(
        sorted(
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.lower().startswith(TRACKING) and k.lower() not in TRACKING_NAMES
        )
    )
    return urlunsplit((scheme, host, path, query, ""))


def key(url: str) -> str:
    """What identifies a normalised URL: a trailing slash makes no other page."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def within(url: str, start: str) -> bool:
    """Same host and under the start URL's path (its folder, for a file-like path)."""
    a, b = urlsplit(url), urlsplit(start)
    if a.netloc != b.netloc:
        return False
    prefix = b.path if b.path.endswith("/") else b.path.rsplit("/", 1)[0] + "/"
    path = a.path if a.path.endswith("/") else a.path + "/"
    return path.startswith(prefix) or a.path == b.path


def valid_glob(pattern: str) -> bool:
    if (
        not pattern
        or len(pattern) > 500
        or any(not ch.isprintable() or ch.isspace() for ch in pattern)
    ):
        return False
    depth = 0
    for ch in pattern:
        if ch == "[":
            if depth:
                return False
            depth = 1
        elif ch == "]" and depth:
            depth = 0
    return depth == 0


def wanted(url: str, include: list[str], exclude: list[str]) -> bool:
    if include and not any(fnmatch.fnmatchcase(url, p) for p in include):
        return False
    return not any(fnmatch.fnmatchcase(url, p) for p in exclude)


@dataclass(frozen=True, slots=True)
class PageInfo:
    title: str | None
    canonical: str | None
    links: list[str]
    noindex: bool
    anchors: dict[str, str]  # heading text -> the id that links to it


def read_page(html: bytes, url: str) -> PageInfo:
    tree = HTMLParser(html)
    title_node = tree.css_first("title")
    title = title_node.text(strip=True) if title_node is not None else None
    canonical = None
    for node in tree.css("link[rel]"):
        if "canonical" in (node.attributes.get("rel") or "").lower().split():
            canonical = normalize(node.attributes.get("href") or "", url)
            break
    links = []
    for node in tree.css("a[href]"):
        rel = (node.attributes.get("rel") or "").lower()
        if "nofollow" in rel.split():
            continue
        found = normalize(node.attributes.get("href") or "", url)
        if found is not None:
            links.append(found)
    robots = tree.css_first('meta[name="robots"]')
    noindex = robots is not None and "noindex" in (robots.attributes.get("content") or "").lower()
    anchors: dict[str, str] = {}
    for heading in tree.css("h1, h2, h3, h4, h5, h6"):
        text = " ".join(heading.text(separator=" ").split())
        inner = heading.css_first("a[id], a[name]")
        parent = heading.parent
        anchor = (
            heading.attributes.get("id")
            or (inner.attributes.get("id") or inner.attributes.get("name") if inner else None)
            or (
                parent.attributes.get("id")
                if parent is not None and parent.tag == "section"
                else None
            )
        )
        if text and anchor and text not in anchors:
            anchors[text] = anchor
    return PageInfo(
        title=title or None, canonical=canonical, links=links, noindex=noindex, anchors=anchors
    )


def read_robots(text: str, agent: str) -> Robots:
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(text.splitlines())
    return Robots(parser, agent)


class Robots:
    def __init__(self, parser: urllib.robotparser.RobotFileParser | None, agent: str) -> None:
        self._parser = parser
        self._agent = agent.split("/")[0]

    def allowed(self, url: str) -> bool:
        return self._parser is None or self._parser.can_fetch(self._agent, url)

    @property
    def delay(self) -> float:
        if self._parser is None:
            return 0.0
        value = self._parser.crawl_delay(self._agent)
        return float(value) if value else 0.0

    @property
    def sitemaps(self) -> list[str]:
        return list(self._parser.site_maps() or []) if self._parser is not None else []


def read_sitemap(data: bytes) -> tuple[list[str], list[str]]:
    """(page URLs, nested sitemap URLs) of a sitemap or sitemap index, gzipped or not."""
    if data[:2] == b"\x1f\x8b":
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as unzipped:
            data = unzipped.read(MAX_SITEMAP_BYTES + 1)[:MAX_SITEMAP_BYTES]
    if b"<!DOCTYPE" in data[:1000] or b"<!ENTITY" in data[:4000]:
        return [], []  # no entities: a sitemap never needs them
    try:
        root = ET.fromstring(data)  # noqa: S314 (no DTD: nothing to expand, checked above)
    except ET.ParseError:
        return [], []
    pages: list[str] = []
    nested: list[str] = []
    target = nested if root.tag.endswith("sitemapindex") else pages
    for node in root.iter():
        if node.tag.endswith("loc") and node.text:
            target.append(node.text.strip())
    return pages, nested
