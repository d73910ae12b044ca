"""The fetch guard: what a tenant-typed URL may reach, checked before any connection."""

from __future__ import annotations

import asyncio
import gzip
import time
from typing import Any

import pytest

from askbase.app.knowledge.sources.fetch import FetchFailed, Guard, Refused, user_agent
from tests.knowledge.site import HTML, html, serve, silent_listener


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://224.0.0.1/",
        "http://0.0.0.0/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
    ],
)
async def test_private_and_reserved_addresses_are_refused(url: str) -> None:
    with pytest.raises(Refused, match="private or reserved"):
        await Guard().address(url)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "javascript:x", "http:///"]
)
async def test_only_http_and_https_urls_are_fetched(url: str) -> None:
    with pytest.raises(Refused):
        await Guard().address(url)


async def test_a_host_that_resolves_to_a_private_address_is_refused() -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.1.2.3"]  # one bad answer is enough

    with pytest.raises(Refused, match=r"10\.1\.2\.3"):
        await Guard(resolve=resolve).address("https://intranet.example/")


async def test_a_refused_address_is_never_connected_to() -> None:
    with silent_listener("127.0.0.2") as (port, seen):
        guard = Guard(allowed_hosts=frozenset({"127.0.0.1"}))
        with pytest.raises(Refused):
            await guard.get(f"http://127.0.0.2:{port}/")
        await asyncio.sleep(0.3)
        await guard.aclose()
    assert seen == []


async def test_a_redirect_to_a_private_address_is_refused_before_connecting() -> None:
    with silent_listener("127.0.0.2") as (port, seen):
        pages = {"/go": (302, {"location": f"http://127.0.0.2:{port}/admin"}, b"")}
        with serve(pages) as site:  # type: ignore[arg-type]
            guard = Guard(allowed_hosts=frozenset({"127.0.0.1"}))
            with pytest.raises(Refused, match=r"127\.0\.0\.2"):
                await guard.get(f"{site.base}/go")
            await guard.aclose()
            assert site.requested("/go") == 1
        await asyncio.sleep(0.3)
    assert seen == []


async def test_the_allow_list_admits_a_private_host_with_our_user_agent() -> None:
    with serve({"/": (200, HTML, html("Hi", "hello"))}) as site:
        guard = Guard(allowed_hosts=frozenset({"127.0.0.1"}), user_agent=user_agent("1.2.3"))
        response = await guard.get(site.base + "/")
        await guard.aclose()
    assert response.status == 200 and b"hello" in response.body
    sent = {k.lower(): v for k, v in site.requests[0][2].items()}
    assert sent["user-agent"] == "askbase/1.2.3 (+https://github.com/askbase/askbase)"


async def test_size_and_redirect_limits() -> None:
    pages = {
        "/huge": (200, HTML, b"x" * 50_000),
        "/loop": (302, {"location": "/loop"}, b""),
    }
    with serve(pages) as site:  # type: ignore[arg-type]
        guard = Guard(allowed_hosts=frozenset({"127.0.0.1"}), max_bytes=10_000, max_redirects=3)
        with pytest.raises(FetchFailed, match="larger than 10000 bytes"):
            await guard.get(site.base + "/huge")
        with pytest.raises(FetchFailed, match="more than 3 redirects"):
            await guard.get(site.base + "/loop")
        await guard.aclose()
    assert site.requested("/loop") == 4


async def test_a_slow_drip_and_a_gzip_bomb_end_with_readable_errors() -> None:
    bomb = gzip.compress(b"\0" * 20_000_000)

    def drip(_path: str) -> Any:
        time.sleep(3)
        return 200, HTML, b"<p>late</p>"

    pages: dict[str, Any] = {
        "/slow": drip,
        "/bomb": (200, {"content-type": "text/html", "content-encoding": "gzip"}, bomb),
    }
    with serve(pages) as site:
        guard = Guard(
            allowed_hosts=frozenset({"127.0.0.1"}), max_bytes=1_000_000, timeout_seconds=1
        )
        with pytest.raises(FetchFailed, match="no complete answer within 1 s"):
            await guard.get(site.base + "/slow")
        guard.timeout_seconds = 20
        with pytest.raises(FetchFailed, match="larger than 1000000 bytes"):
            await guard.get(site.base + "/bomb")
        await guard.aclose()
