"""The one way the server fetches a URL that a tenant typed (an SSRF guard).

http(s) only; the host is resolved here and every address it resolves to is checked
before any connection, and again for every redirect: loopback, private, link-local
(cloud metadata), multicast, reserved and unspecified addresses are refused unless the
host or address is allow-listed (CRAWL_ALLOWED_PRIVATE_HOSTS). The connection then goes
to the checked address (the Host header and TLS name stay the host's), so a second DNS
answer cannot swap it. Bodies are read up to a size limit; each request has a deadline.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

PROJECT_URL = "https://github.com/askbase/askbase"
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]


class Refused(Exception):
    """The URL may not be fetched; the message says why, fit for its owner to read."""


class FetchFailed(Exception):
    """The fetch did not complete (timeout, connection, too large); readable message."""


def user_agent(version: str) -> str:
    return f"askbase/{version} (+{PROJECT_URL})"


def parse_allowed(value: str) -> frozenset[str]:
    return frozenset(h.strip().lower().strip("[]") for h in value.split(",") if h.strip())


def forbidden(ip: Address) -> bool:
    """Loopback, private, link-local, multicast, reserved, unspecified or not global."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or Refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("the URL is not valid") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused("only http and https URLs can be fetched")
    host = (parts.hostname or "").lower()
    if not host:
        raise Refused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise Refused("URLs with credentials are not fetched")
    return scheme, host, port or (443 if scheme == "https" else 80)


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise Refused(f"the host {host} cannot be resolved") from None
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class Response:
    url: str  # the final URL, after redirects
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass
class Guard:
    """Checks and fetches URLs; one per process (it holds a connection pool)."""

    allowed_hosts: frozenset[str] = frozenset()
    user_agent: str = user_agent("0")
    max_bytes: int = 5_000_000
    timeout_seconds: float = 20.0
    max_redirects: int = 5
    resolve: Resolver = system_resolver
    _client: httpx.AsyncClient | None = field(default=None, init=False, repr=False)

    async def address(self, url: str) -> tuple[str, str, int, str]:
        """Check `url` and resolve its host: (scheme, host, port, the address to use)."""
        scheme, host, port = check_url(url)
        try:
            literal: Address | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        addresses = [host] if literal is not None else await self.resolve(host, port)
        if not addresses:
            raise Refused(f"the host {host} cannot be resolved")
        for raw in addresses:
            ip = ipaddress.ip_address(raw.split("%")[0])
            if (
                forbidden(ip)
                and host not in self.allowed_hosts
                and str(ip) not in self.allowed_hosts
            ):
                raise Refused(
                    f"{host} resolves to {ip}, a private or reserved address, which is not fetched"
                )
        return scheme, host, port, addresses[0].split("%")[0]

    async def get(self, url: str, headers: Mapping[str, str] | None = None) -> Response:
        """GET `url`, following redirects (each one checked) up to the limit."""
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return await self._get(url, dict(headers or {}))
        except TimeoutError:
            raise FetchFailed(f"no complete answer within {self.timeout_seconds:g} s") from None

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        """POST `body` to `url`, checked as for a GET; a redirect is not followed (it is
        the answer). Used for webhooks (app/chat/webhooks.py)."""
        try:
            async with asyncio.timeout(self.timeout_seconds):
                scheme, host, port, ip = await self.address(url)
                return await self._request(
                    url, scheme, host, port, ip, dict(headers), method="POST", content=body
                )
        except TimeoutError:
            raise FetchFailed(f"no complete answer within {self.timeout_seconds:g} s") from None

    async def _get(self, url: str, headers: dict[str, str]) -> Response:
        for _hop in range(self.max_redirects + 1):
            scheme, host, port, ip = await self.address(url)
            response = await self._request(url, scheme, host, port, ip, headers)
            location = response.headers.get("location")
            if response.status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location).split("#")[0]
                headers = {k: v for k, v in headers.items() if k.lower().startswith("accept")}
                continue
            return response
        raise FetchFailed(f"more than {self.max_redirects} redirects")

    async def _request(
        self,
        url: str,
        scheme: str,
        host: str,
        port: int,
        ip: str,
        headers: dict[str, str],
        method: str = "GET",
        content: bytes | None = None,
    ) -> Response:
        parts = urlsplit(url)
        netloc = f"[{ip}]" if ":" in ip else ip
        target = f"{scheme}://{netloc}:{port}{parts.path or '/'}"
        if parts.query:
            target += "?" + parts.query
        default_port = 443 if scheme == "https" else 80
        sent = {
            **headers,
            "host": host if port == default_port else f"{host}:{port}",
            "user-agent": self.user_agent,
            "accept-encoding": "gzip, deflate",
        }
        client = self._client_now()
        request = client.build_request(method, target, headers=sent, content=content)
        if scheme == "https":
            request.extensions["sni_hostname"] = host
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as error:
            raise FetchFailed(f"the request failed ({type(error).__name__})") from None
        try:
            body = bytearray()
            if response.status_code < 300 or response.status_code >= 400:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise FetchFailed(f"larger than {self.max_bytes} bytes")
                try:
                    async for part in response.aiter_bytes():
                        body += part
                        if len(body) > self.max_bytes:
                            raise FetchFailed(f"larger than {self.max_bytes} bytes")
                except httpx.HTTPError as error:
                    raise FetchFailed(
                        f"the response was cut off ({type(error).__name__})"
                    ) from None
        finally:
            await response.aclose()
        return Response(
            url=url,
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=bytes(body),
        )

    def _client_now(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,  # never through a proxy from the environment
                timeout=httpx.Timeout(self.timeout_seconds),
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
