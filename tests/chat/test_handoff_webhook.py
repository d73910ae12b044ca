"""The hand-off webhook against a real HTTP receiver on 127.0.0.1 (allow-listed in the
tests' settings): signed with the website's secret, retried after a failure, logged for
the owner; addresses the fetch guard refuses cannot be set."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.chat.test_chat_stream import new_chat
from tests.chat.test_handoff import REQUEST_HUMAN
from tests.conftest import ORIGIN, Api, Tenant, visitor_session

SET_WEBHOOK = """
mutation($w: ID!, $u: String, $r: Boolean) {
  setHandoffWebhook(websiteId: $w, url: $u, rotateSecret: $r) { url secret updatedAt }
}"""
WEBHOOK = "query($w: ID!) { handoffWebhook(websiteId: $w) { url secret } }"
DELIVERIES = """
query($w: ID!) {
  handoffDeliveries(websiteId: $w) { eventId chatId attempt url statusCode ok error }
}"""


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each request with the next of `statuses` (then 200), and keeps it."""

    statuses: list[int]
    requests: asyncio.Queue[Received] = field(default_factory=asyncio.Queue)
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        method, path, _ = head[0].split(" ", 2)
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        status = self.statuses.pop(0) if self.statuses else 200
        writer.write(
            f"HTTP/1.1 {status} Status\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        writer.close()
        await self.requests.put(Received(method, path, headers, body))


@asynccontextmanager
async def receiver(*statuses: int) -> AsyncIterator[Receiver]:
    found = Receiver(list(statuses))
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    found.url = f"http://127.0.0.1:{port}/hooks/askbase"
    async with server:
        yield found


async def deliveries(api: Api, site: Tenant, count: int) -> list[dict[str, Any]]:
    """The delivery log once it holds `count` attempts (each is logged once it ends)."""
    while True:
        rows: list[dict[str, Any]] = (
            await api.data(DELIVERIES, {"w": site.website_id}, token=site.owner)
        )["handoffDeliveries"]
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.05)


async def test_a_request_is_posted_signed_and_retried_after_a_failure(
    api: Api, tenant: Tenant, tenant_factory: Any
) -> None:
    async with receiver(503) as hook:
        made = (
            await api.data(SET_WEBHOOK, {"w": tenant.website_id, "u": hook.url}, token=tenant.owner)
        )["setHandoffWebhook"]
        assert made["url"] == hook.url and made["secret"].startswith("whsec_")
        secret = made["secret"]
        session = await visitor_session(api, tenant.website_id)
        chat_id = await new_chat(api, session["token"], tenant.website_id)
        await api.data(
            REQUEST_HUMAN, {"c": chat_id, "n": "Call me"}, token=session["token"], origin=ORIGIN
        )
        first = await asyncio.wait_for(hook.requests.get(), 30)  # answered 503
        second = await asyncio.wait_for(hook.requests.get(), 30)  # answered 200

    assert (first.method, first.path) == ("POST", "/hooks/askbase")
    assert first.body == second.body
    assert first.headers["x-askbase-delivery"] == second.headers["x-askbase-delivery"]
    assert first.headers["content-type"] == "application/json"
    expected = "sha256=" + hmac.new(secret.encode(), second.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(second.headers["x-askbase-signature"], expected)
    wrong = "sha256=" + hmac.new(b"another secret", second.body, hashlib.sha256).hexdigest()
    assert second.headers["x-askbase-signature"] != wrong
    payload = json.loads(second.body)
    assert payload["type"] == "handoff.requested"
    assert payload["id"] == second.headers["x-askbase-delivery"]
    assert (payload["websiteId"], payload["chatId"], payload["note"]) == (
        tenant.website_id,
        chat_id,
        "Call me",
    )

    log = await asyncio.wait_for(deliveries(api, tenant, 2), 30)
    assert [(d["attempt"], d["statusCode"], d["ok"], d["error"]) for d in log] == [
        (2, 200, True, None),
        (1, 503, False, "HTTP 503"),
    ]
    assert {d["eventId"] for d in log} == {payload["id"]}
    assert {d["chatId"] for d in log} == {chat_id} and {d["url"] for d in log} == {hook.url}

    # The secret and the log are the owner's alone.
    other: Tenant = await tenant_factory()
    for query in (WEBHOOK, DELIVERIES):
        error = await api.error(query, {"w": tenant.website_id}, token=other.owner)
        assert error["extensions"]["code"] == "NOT_FOUND"
        error = await api.error(
            query, {"w": tenant.website_id}, token=session["token"], origin=ORIGIN
        )
        assert error["extensions"]["code"] == "FORBIDDEN"
    own = (await api.data(WEBHOOK, {"w": tenant.website_id}, token=tenant.owner))["handoffWebhook"]
    assert own == {"url": hook.url, "secret": secret}


async def test_the_secret_stays_until_rotated_and_the_webhook_can_be_removed(
    api: Api, tenant: Tenant
) -> None:
    site = tenant.website_id
    first = (
        await api.data(SET_WEBHOOK, {"w": site, "u": "http://127.0.0.1:9/a"}, token=tenant.owner)
    )["setHandoffWebhook"]
    moved = (
        await api.data(SET_WEBHOOK, {"w": site, "u": "http://127.0.0.1:9/b"}, token=tenant.owner)
    )["setHandoffWebhook"]
    assert moved["secret"] == first["secret"] and moved["url"].endswith("/b")
    rotated = (
        await api.data(
            SET_WEBHOOK, {"w": site, "u": "http://127.0.0.1:9/b", "r": True}, token=tenant.owner
        )
    )["setHandoffWebhook"]
    assert rotated["secret"] != first["secret"]
    removed = await api.data(SET_WEBHOOK, {"w": site, "u": None}, token=tenant.owner)
    assert removed == {"setHandoffWebhook": None}
    assert (await api.data(WEBHOOK, {"w": site}, token=tenant.owner)) == {"handoffWebhook": None}


async def test_addresses_the_fetch_guard_refuses_cannot_be_set(api: Api, tenant: Tenant) -> None:
    for url in (
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
        "http://10.0.0.7/hook",  # private
        "http://[::1]:8080/hook",  # loopback, not allow-listed (only 127.0.0.1 is)
        "http://0.0.0.0/hook",
        "file:///etc/passwd",
        "http://user:pw@hooks.example/",
    ):
        error = await api.error(SET_WEBHOOK, {"w": tenant.website_id, "u": url}, token=tenant.owner)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", url
        assert error["extensions"]["field"] == "url"
    assert (await api.data(WEBHOOK, {"w": tenant.website_id}, token=tenant.owner)) == {
        "handoffWebhook": None
    }
