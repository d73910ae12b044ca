"""Website sources: a real site on 127.0.0.1 crawled, synced again, searched and cited."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from typing import Any

import pytest
import websockets

from tests.conftest import Api, Tenant, owner_token, visitor_session
from tests.knowledge.site import HTML, Page, docs_site, html, serve, silent_listener

ADD = """
mutation($w: ID!, $i: WebsiteSourceInput!) {
  addWebsiteSource(websiteId: $w, input: $i) { id url kind state maxPages }
}"""
SOURCE = """
query($s: ID!) {
  websiteSource(id: $s) {
    id state error lastSyncedAt nextSyncAt
    stats { discovered stored unchanged skipped failed removed }
    pages(first: 100) { nodes { url title state httpStatus error documentId } }
  }
}"""
SYNC = "mutation($s: ID!) { syncWebsiteSource(id: $s) { id state } }"
DOCUMENT = "query($d: ID!) { document(id: $d) { id status sourceUrl filename contentType } }"
SEARCH = """
query($w: ID!, $q: String!) { search(websiteId: $w, query: $q, limit: 3) { documentId title url } }
"""


async def wait_for_sync(api: Api, tenant: Tenant, source_id: str, within: float = 90) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    await asyncio.sleep(0.3)
    while True:
        source = (await api.data(SOURCE, {"s": source_id}, token=tenant.owner))["websiteSource"]
        if source["state"] in ("IDLE", "FAILED"):
            return source
        assert asyncio.get_running_loop().time() < deadline, source
        await asyncio.sleep(0.2)


async def wait_until_ready(api: Api, tenant: Tenant, document_ids: list[str]) -> None:
    deadline = asyncio.get_running_loop().time() + 90
    for document_id in document_ids:
        while True:
            doc = (await api.data(DOCUMENT, {"d": document_id}, token=tenant.owner))["document"]
            if doc["status"] in ("READY", "FAILED"):
                assert doc["status"] == "READY", doc
                break
            assert asyncio.get_running_loop().time() < deadline, doc
            await asyncio.sleep(0.2)


def by_path(source: Any, base: str) -> dict[str, Any]:
    return {p["url"].removeprefix(base): p for p in source["pages"]["nodes"]}


async def test_a_crawl_stores_pages_as_searchable_documents_and_resyncs_incrementally(
    api: Api, tenant: Tenant
) -> None:
    holder: list[str] = []
    pages = docs_site(holder)
    with serve(pages) as site:
        holder.append(site.base)
        added = (
            await api.data(
                ADD,
                {"w": tenant.website_id, "i": {"url": site.base + "/docs/", "maxPages": 30}},
                token=tenant.owner,
            )
        )["addWebsiteSource"]
        assert added["kind"] == "CRAWL" and added["state"] == "QUEUED"
        source = await wait_for_sync(api, tenant, added["id"])
        assert source["state"] == "IDLE", source
        found = by_path(source, site.base)

        for path in ("/docs/", "/docs/install", "/docs/pricing", "/docs/moved", "/docs/busy"):
            assert found[path]["state"] == "STORED", found[path]
        assert found["/docs/install"]["title"] == "Install"
        assert found["/docs/private/secret"]["state"] == "SKIPPED"
        assert "robots.txt" in found["/docs/private/secret"]["error"]
        assert found["/docs/missing"]["state"] == "FAILED"
        assert found["/docs/missing"]["httpStatus"] == 404
        assert "/docs/old" not in found  # stored under the URL it redirects to
        assert not any(p.startswith("/outside") for p in found)
        assert site.requested("/outside/page") == 0
        assert site.requested("/docs/private/secret") == 0
        assert site.requested("/docs/install") == 1  # "/docs/install/" is the same page
        assert site.requested("/docs/pricing") == 1  # tracking parameters and fragment dropped
        calendars = [p for p in found if p.startswith("/docs/calendar")]
        assert 1 <= len(calendars) <= 6  # the trap ends at the depth limit
        assert site.requested("/docs/busy") == 2  # 429, then after Retry-After
        # Crawl-delay between fetches (a redirect is followed at once, as one fetch)
        times = sorted(
            t for t, path, _ in site.requests if path not in ("/robots.txt", "/docs/moved")
        )
        gaps = [round(b - a, 2) for a, b in itertools.pairwise(times)]
        # (each gap is measured on the server: a slow connection shifts one, not the sum)
        assert times[-1] - times[0] >= 0.95 * len(gaps), gaps
        agents = {h.get("User-Agent") or h.get("user-agent") for _, _, h in site.requests}
        assert agents == {f"askbase/{api.state.version} (+https://github.com/askbase/askbase)"}
        assert source["stats"]["stored"] == 5 + len(calendars)
        assert source["stats"]["failed"] == 1 and source["stats"]["skipped"] == 1

        stored = [p["documentId"] for p in found.values() if p["state"] == "STORED"]
        await wait_until_ready(api, tenant, stored)
        doc = (
            await api.data(
                DOCUMENT, {"d": found["/docs/pricing"]["documentId"]}, token=tenant.owner
            )
        )["document"]
        assert doc["sourceUrl"] == site.base + "/docs/pricing"
        assert doc["filename"] == "Pricing" and doc["contentType"] == "text/html"
        hits = (
            await api.data(
                SEARCH, {"w": tenant.website_id, "q": "platypus coins"}, token=tenant.owner
            )
        )["search"]
        assert hits[0]["documentId"] == found["/docs/pricing"]["documentId"]
        assert hits[0]["url"] == site.base + "/docs/pricing"

        # Again: nothing changed, so nothing is stored again.
        await api.data(SYNC, {"s": added["id"]}, token=tenant.owner)
        again = await wait_for_sync(api, tenant, added["id"])
        found = by_path(again, site.base)
        for path in ("/docs/", "/docs/install", "/docs/pricing", "/docs/moved"):
            assert found[path]["state"] == "UNCHANGED", found[path]
        assert again["stats"]["stored"] == 0

        # The site changes: one page is gone, another is rewritten.
        del pages["/docs/install"]
        pages["/docs/pricing"] = (200, HTML, html("Pricing", "Now it costs seven wombat tokens."))
        await api.data(SYNC, {"s": added["id"]}, token=tenant.owner)
        third = await wait_for_sync(api, tenant, added["id"])
        found = by_path(third, site.base)
        assert found["/docs/install"]["state"] == "REMOVED"
        assert found["/docs/pricing"]["state"] == "STORED"
        assert third["stats"]["removed"] == 1
        install_doc = by_path(source, site.base)["/docs/install"]["documentId"]
        gone = await api.data(DOCUMENT, {"d": install_doc}, token=tenant.owner)
        assert gone["document"] is None
        await wait_until_ready(api, tenant, [found["/docs/pricing"]["documentId"]])
        hits = (
            await api.data(
                SEARCH, {"w": tenant.website_id, "q": "wombat tokens"}, token=tenant.owner
            )
        )["search"]
        assert hits[0]["url"] == site.base + "/docs/pricing"


async def test_sitemap_and_page_sources(api: Api, tenant: Tenant) -> None:
    holder: list[str] = []
    with serve(docs_site(holder)) as site:
        holder.append(site.base)
        sitemap = (
            await api.data(
                ADD,
                {"w": tenant.website_id, "i": {"url": site.base + "/", "kind": "SITEMAP"}},
                token=tenant.owner,
            )
        )["addWebsiteSource"]
        page = (
            await api.data(
                ADD,
                {"w": tenant.website_id, "i": {"url": site.base + "/docs/old", "kind": "PAGE"}},
                token=tenant.owner,
            )
        )["addWebsiteSource"]
        done = await wait_for_sync(api, tenant, sitemap["id"])
        assert done["state"] == "IDLE", done
        # robots.txt's Sitemap: line, a sitemap index, then a gzipped sitemap
        assert {p: s["state"] for p, s in by_path(done, site.base).items()} == {
            "/docs/install": "STORED",
            "/docs/pricing": "STORED",
        }
        one = await wait_for_sync(api, tenant, page["id"])
        assert [(p, s["state"]) for p, s in by_path(one, site.base).items()] == [
            ("/docs/moved", "STORED")
        ]


async def test_status_subscription_follows_a_sync_to_the_end(api: Api, tenant: Tenant) -> None:
    holder: list[str] = []
    with serve(docs_site(holder)) as site:
        holder.append(site.base)
        added = (
            await api.data(
                ADD,
                {"w": tenant.website_id, "i": {"url": site.base + "/docs/install", "kind": "PAGE"}},
                token=tenant.owner,
            )
        )["addWebsiteSource"]
        seen: list[dict[str, Any]] = []
        async with websockets.connect(api.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(
                json.dumps(
                    {
                        "type": "connection_init",
                        "payload": {"authorization": f"Bearer {tenant.owner}"},
                    }
                )
            )
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            query = (
                "subscription($s: ID!) { websiteSourceStatus(sourceId: $s) "
                "{ state stats { discovered stored } } }"
            )
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": query, "variables": {"s": added["id"]}},
                    }
                )
            )
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if message["type"] == "complete":
                    break
                assert message["type"] == "next", message
                seen.append(message["payload"]["data"]["websiteSourceStatus"])
    assert seen[-1] == {"state": "IDLE", "stats": {"discovered": 1, "stored": 1}}
    assert len({json.dumps(s, sort_keys=True) for s in seen}) == len(seen)  # only changes


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"url": "ftp://127.0.0.1/"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "http://10.0.0.1/"}, "url"),
        ({"url": "http://169.254.169.254/latest/"}, "url"),
        ({"url": "http://127.0.0.1:9/", "maxPages": 0}, "maxPages"),
        ({"url": "http://127.0.0.1:9/", "maxPages": 1_000_000}, "maxPages"),
        ({"url": "http://127.0.0.1:9/", "includePatterns": ["[abc"]}, "includePatterns"),
        ({"url": "http://127.0.0.1:9/", "excludePatterns": [""]}, "excludePatterns"),
    ],
)
async def test_bad_sources_are_bad_user_input(
    api: Api, tenant: Tenant, given: dict[str, Any], field: str
) -> None:
    error = await api.error(ADD, {"w": tenant.website_id, "i": given}, token=tenant.owner)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"].get("field") == field, error


async def test_a_refused_source_url_is_never_connected_to(api: Api, tenant: Tenant) -> None:
    with silent_listener("127.0.0.2") as (port, seen):
        error = await api.error(
            ADD,
            {"w": tenant.website_id, "i": {"url": f"http://127.0.0.2:{port}/"}},
            token=tenant.owner,
        )
        await asyncio.sleep(0.3)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "private or reserved" in error["message"]
    assert seen == []


async def test_another_owner_never_sees_or_syncs_a_source(api: Api, tenant: Tenant) -> None:
    with serve({"/": (200, HTML, html("Home", "A page."))}) as site:
        added = (
            await api.data(
                ADD,
                {"w": tenant.website_id, "i": {"url": site.base + "/", "kind": "PAGE"}},
                token=tenant.owner,
            )
        )["addWebsiteSource"]
        await wait_for_sync(api, tenant, added["id"])
        stranger = owner_token(uuid.uuid4())
        found = await api.data(SOURCE, {"s": added["id"]}, token=stranger)
        assert found["websiteSource"] is None
        error = await api.error(SYNC, {"s": added["id"]}, token=stranger)
        assert error["extensions"]["code"] == "NOT_FOUND"
        error = await api.error(
            "mutation($s: ID!) { deleteWebsiteSource(id: $s) }", {"s": added["id"]}, token=stranger
        )
        assert error["extensions"]["code"] == "NOT_FOUND"
        error = await api.error(
            "query($w: ID!) { websiteSources(websiteId: $w) { id } }",
            {"w": tenant.website_id},
            token=stranger,
        )
        assert error["extensions"]["code"] == "NOT_FOUND"

        mine = await api.data(
            "query($w: ID!) { websiteSources(websiteId: $w) { id } }",
            {"w": tenant.website_id},
            token=tenant.owner,
        )
        assert [s["id"] for s in mine["websiteSources"]] == [added["id"]]


async def test_deleting_a_source_deletes_its_documents(api: Api, tenant: Tenant) -> None:
    with serve({"/": (200, HTML, html("Home", "A page."))}) as site:
        added = (
            await api.data(
                ADD,
                {"w": tenant.website_id, "i": {"url": site.base + "/", "kind": "PAGE"}},
                token=tenant.owner,
            )
        )["addWebsiteSource"]
        source = await wait_for_sync(api, tenant, added["id"])
    document_id = source["pages"]["nodes"][0]["documentId"]
    assert document_id
    deleted = await api.data(
        "mutation($s: ID!) { deleteWebsiteSource(id: $s) }", {"s": added["id"]}, token=tenant.owner
    )
    assert deleted["deleteWebsiteSource"] is True
    assert (await api.data(DOCUMENT, {"d": document_id}, token=tenant.owner))["document"] is None
    assert (await api.data(SOURCE, {"s": added["id"]}, token=tenant.owner))["websiteSource"] is None


async def test_a_scheduled_source_is_synced_again_when_due(
    api: Api, tenant: Tenant, admin: Any
) -> None:
    with serve({"/": (200, HTML, html("Home", "A page."))}) as site:
        added = (
            await api.data(
                ADD,
                {
                    "w": tenant.website_id,
                    "i": {"url": site.base + "/", "kind": "PAGE", "resyncEveryHours": 24},
                },
                token=tenant.owner,
            )
        )["addWebsiteSource"]
        first = await wait_for_sync(api, tenant, added["id"])
        assert first["nextSyncAt"] is not None
        await admin.execute(
            "update public.website_sources set next_sync_at = now() - interval '1 minute' "
            "where id = $1",
            uuid.UUID(added["id"]),
        )
        if api.state.events is not None:
            api.state.events.jobs_available.set()
        deadline = asyncio.get_running_loop().time() + 30
        while site.requested("/") < 2:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.2)
        again = await wait_for_sync(api, tenant, added["id"])
        assert again["lastSyncedAt"] > first["lastSyncedAt"]
        assert by_path(again, site.base)["/"]["state"] == "UNCHANGED"


CITED = """
subscription($c: ID!, $m: String!) {
  chatStream(chatId: $c, message: $m) {
    __typename
    ... on SourcesFound { sources { documentId title url snippet } }
  }
}"""


async def test_chat_answers_cite_the_page_url_and_section(api: Api, tenant: Tenant) -> None:
    from tests.chat.test_chat_stream import connected, new_chat
    from tests.web.test_ws import recv

    page = html(
        "Shipping",
        "We ship everywhere.",
        extra="",
    ).replace(
        b"</main>",
        b'<h2 id="iceland">Iceland</h2><p>Parcels to Iceland travel by puffin express'
        b" within nine days.</p></main>",
    )
    with serve({"/shipping": (200, HTML, page)}) as site:
        added = (
            await api.data(
                ADD,
                {"w": tenant.website_id, "i": {"url": site.base + "/shipping", "kind": "PAGE"}},
                token=tenant.owner,
            )
        )["addWebsiteSource"]
        source = await wait_for_sync(api, tenant, added["id"])
    document_id = source["pages"]["nodes"][0]["documentId"]
    await wait_until_ready(api, tenant, [document_id])
    session = await visitor_session(api, tenant.website_id)
    chat_id = await new_chat(api, session["token"], tenant.website_id)
    async with connected(api, "graphql-transport-ws", session["token"]) as ws:
        payload = {
            "query": CITED,
            "variables": {"c": chat_id, "m": "How do parcels reach Iceland?"},
        }
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        while True:
            message = await asyncio.wait_for(recv(ws), 30)
            assert message["type"] == "next", message
            event = message["payload"]["data"]["chatStream"]
            if event["__typename"] == "SourcesFound":
                break
    assert event["sources"][0]["documentId"] == document_id
    assert event["sources"][0]["url"] == site.base + "/shipping#iceland", event  # the section
    hits = (
        await api.data(SEARCH, {"w": tenant.website_id, "q": "puffin express"}, token=tenant.owner)
    )["search"]
    assert hits[0]["url"] == site.base + "/shipping#iceland"


async def test_a_source_has_at_most_one_sync_queued_or_running(
    api: Api, tenant: Tenant, admin: Any
) -> None:
    def slow(_path: str) -> Page:
        time.sleep(1.5)  # the sync is still running while more are asked for
        return 200, HTML, html("Home", "A page.")

    with serve({"/": slow}) as site:
        added = (
            await api.data(
                ADD,
                {"w": tenant.website_id, "i": {"url": site.base + "/", "kind": "PAGE"}},
                token=tenant.owner,
            )
        )["addWebsiteSource"]
        for _ in range(200):  # until the sync is under way
            if site.requested("/"):
                break
            await asyncio.sleep(0.05)
        await asyncio.gather(
            *(api.data(SYNC, {"s": added["id"]}, token=tenant.owner) for _ in range(5))
        )
        active = await admin.fetchval(
            "select count(*) from public.jobs where source_id = $1 "
            "and status in ('queued', 'running')",
            uuid.UUID(added["id"]),
        )
        assert active == 1
        await wait_for_sync(api, tenant, added["id"])
    assert site.requested("/") == 1


async def test_hostile_and_non_page_responses_become_readable_page_states(
    api: Api, tenant: Tenant
) -> None:
    from tests import files

    links = ("/huge", "/logo.png", "/guide.pdf", "/broken", "/loop")
    pages: dict[str, Any] = {
        "/": (200, HTML, html("Home", "Start here.", links)),
        "/huge": (200, HTML, b"<!DOCTYPE html><p>" + b"x" * 6_000_000),
        "/logo.png": (200, {"content-type": "image/png"}, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
        "/guide.pdf": (
            200,
            {"content-type": "application/pdf"},
            files.pdf(["The guide explains the quokka protocol."]),
        ),
        "/broken": (500, {"content-type": "text/plain"}, b"oops"),
        "/loop": (302, {"location": "/loop"}, b""),
    }
    with serve(pages) as site:
        added = (
            await api.data(
                ADD, {"w": tenant.website_id, "i": {"url": site.base + "/"}}, token=tenant.owner
            )
        )["addWebsiteSource"]
        source = await wait_for_sync(api, tenant, added["id"])
    assert source["state"] == "IDLE", source
    found = by_path(source, site.base)
    assert found["/huge"]["state"] == "SKIPPED"
    assert found["/huge"]["error"] == "Larger than 5000000 bytes."
    assert found["/logo.png"]["state"] == "SKIPPED"
    assert "image/png" in found["/logo.png"]["error"]
    assert found["/broken"]["state"] == "FAILED" and found["/broken"]["httpStatus"] == 500
    assert found["/loop"]["state"] == "FAILED" and "redirects" in found["/loop"]["error"]
    assert found["/guide.pdf"]["state"] == "STORED"
    await wait_until_ready(api, tenant, [found["/guide.pdf"]["documentId"]])
    hits = (
        await api.data(SEARCH, {"w": tenant.website_id, "q": "quokka protocol"}, token=tenant.owner)
    )["search"]
    assert hits[0]["url"] == site.base + "/guide.pdf"


async def test_an_interrupted_sync_resumes_where_it_stopped(
    api: Api, tenant: Tenant, admin: Any
) -> None:
    pages: dict[str, Any] = {
        "/": (200, HTML, html("Home", "Start.", ("/a", "/b"))),
        "/a": (200, HTML, html("A", "Page a.")),
        "/b": (200, HTML, html("B", "Page b.")),
    }
    with serve(pages) as site:
        added = (
            await api.data(
                ADD, {"w": tenant.website_id, "i": {"url": site.base + "/"}}, token=tenant.owner
            )
        )["addWebsiteSource"]
        await wait_for_sync(api, tenant, added["id"])
        source_id = uuid.UUID(added["id"])
        # A worker stopped in the middle of the next sync: "/" and "/a" were done, then
        # its lease ran out; the job is claimed again.
        async with admin.transaction():
            started = await admin.fetchval(
                "update public.website_sources set state = 'syncing', sync_started_at = now()"
                " where id = $1 returning sync_started_at",
                source_id,
            )
            await admin.execute(
                "update public.source_pages set sync_at = $2, state = 'unchanged'"
                " where source_id = $1 and url = any($3::text[])",
                source_id,
                started,
                [site.base + "/", site.base + "/a"],
            )
            await admin.execute(
                "insert into public.jobs (source_id, website_id, kind, status, attempts,"
                " locked_by, locked_at) values ($1, $2, 'sync', 'running', 1, 'gone',"
                " now() - interval '1 hour')",
                source_id,
                uuid.UUID(tenant.website_id),
            )
        before = {path: site.requested(path) for path in ("/", "/a", "/b")}
        if api.state.events is not None:
            api.state.events.jobs_available.set()
        resumed = await wait_for_sync(api, tenant, added["id"])
    assert resumed["state"] == "IDLE", resumed
    assert site.requested("/") == before["/"] and site.requested("/a") == before["/a"]
    assert site.requested("/b") == before["/b"] + 1
    states = {p: s["state"] for p, s in by_path(resumed, site.base).items()}
    assert states == {"/": "UNCHANGED", "/a": "UNCHANGED", "/b": "UNCHANGED"}
    assert resumed["stats"]["discovered"] == 3


async def test_a_site_that_is_down_fails_the_sync_and_keeps_its_pages(
    api: Api, tenant: Tenant
) -> None:
    with serve({"/": (200, HTML, html("Home", "A page that stays."))}) as site:
        added = (
            await api.data(
                ADD,
                {"w": tenant.website_id, "i": {"url": site.base + "/", "kind": "PAGE"}},
                token=tenant.owner,
            )
        )["addWebsiteSource"]
        first = await wait_for_sync(api, tenant, added["id"])
    document_id = first["pages"]["nodes"][0]["documentId"]
    await api.data(SYNC, {"s": added["id"]}, token=tenant.owner)  # nobody listens now
    down = await wait_for_sync(api, tenant, added["id"])
    assert down["state"] == "FAILED"
    assert "no page could be fetched" in down["error"]
    assert (await api.data(DOCUMENT, {"d": document_id}, token=tenant.owner))["document"]
    assert down["pages"]["nodes"][0]["state"] == "FAILED"
    assert down["pages"]["nodes"][0]["documentId"] == document_id
