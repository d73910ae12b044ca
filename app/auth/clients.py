"""Which client a request comes from, as the rate limits count it.

A forwarded-for header is believed only from a proxy inside TRUSTED_PROXY_CIDRS: the
chain is read from the right, past every trusted proxy, and the first address that no
trusted proxy could have written is the client; an entry written by the client itself is
never used. IPv6 clients are counted per /64, the block one subscriber usually holds.
An address is never stored as it is: what goes into the database is `client_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from starlette.requests import HTTPConnection

from askbase.app.core.settings import Network, Settings


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: list[Network]) -> bool:
    return any(address in net for net in nets)


def client_key(peer: str | None, forwarded: str | None, trusted: list[Network]) -> str:
    """The rate-limit key of a request from `peer` carrying `forwarded` (the configured
    header's value, if any)."""
    client = _address(peer or "")
    if client is not None and forwarded and trusted and _trusted(client, trusted):
        for hop in reversed(forwarded.split(",")):
            address = _address(hop)
            if address is None:
                break  # garbage from here on was not written by a proxy we trust
            client = address
            if not _trusted(address, trusted):
                break
    if client is None:
        return peer or "unknown"
    if client.version == 6:
        return str(ipaddress.ip_network(f"{client}/64", strict=False))
    return str(client)


def request_client(connection: HTTPConnection, settings: Settings) -> str:
    """The client of an HTTP request or WebSocket, as `client_key` reads it."""
    header = settings.trusted_proxy_header
    return client_key(
        connection.client.host if connection.client else None,
        connection.headers.get(header) if header else None,
        settings.trusted_proxy_networks,
    )


def client_digest(secret: bytes, client: str) -> str:
    """A client key as it may be stored: HMAC-SHA256 under a server secret, so that the
    address cannot be read back, nor found by hashing all 2^32 IPv4 addresses, without
    the secret."""
    return hmac.new(secret, client.encode(), hashlib.sha256).hexdigest()
