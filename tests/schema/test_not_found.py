"""One rule for objects that are missing or not the caller's: a lookup of one object by id
is null; every other field that names an object by id fails with NOT_FOUND. Another
tenant's object looks exactly like one that does not exist."""

from __future__ import annotations

import json
import uuid
from typing import Any

import websockets

from tests.conftest import ORIGIN, Api, Tenant, visitor_session
from tests.knowledge.test_search import add_text
from tests.web.test_ws import recv

LOOKUPS = {
    "website": '{ website(id: "%s") { id } }',
    "chat": '{ chat(id: "%s") { id } }',
    "document": '{ document(id: "%s") { id } }',
    "websiteSource": '{ websiteSource(id: "%s") { id } }',
}
# Fields naming a website.
OF_WEBSITE = [
    '{ chats(websiteId: "%s") { nodes { id } } }',
    '{ documents(websiteId: "%s") { nodes { id } } }',
    '{ websiteSources(websiteId: "%s") { id } }',
    '{ search(websiteId: "%s", query: "refunds") { chunkId } }',
    '{ usage(websiteId: "%s") { answers } }',
    '{ knowledgeGaps(websiteId: "%s") { id } }',
    '{ activity(websiteId: "%s", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z")'
    " { at } }",
    'mutation { updateWebsite(id: "%s", input: {name: "x"}) { id } }',
    'mutation { deleteWebsite(id: "%s") }',
    'mutation { createChat(websiteId: "%s") { id } }',
    'mutation { addDocumentText(websiteId: "%s", filename: "a.md", text: "A") { id } }',
    'mutation { addWebsiteSource(websiteId: "%s", input: {url: "http://127.0.0.1/"}) { id } }',
]
OF_CHAT = [
    '{ messages(chatId: "%s") { nodes { id } } }',
    'mutation { addMessage(chatId: "%s", content: "Hello?") { id } }',
    'mutation { deleteChat(id: "%s") }',
]
OF_DOCUMENT = ['mutation { deleteDocument(id: "%s") }']
OF_SOURCE = [
    'mutation { syncWebsiteSource(id: "%s") { id } }',
    'mutation { deleteWebsiteSource(id: "%s") }',
]
OF_OTHERS = [
    'mutation { rateMessage(messageId: "%s", rating: UP) { rating } }',
    'mutation { resolveKnowledgeGap(id: "%s") { id } }',
]


async def owned_objects(api: Api, tenant: Tenant) -> dict[str, str]:
    """A chat, a document and a source of the tenant's website, by kind."""
    chat = await api.data(
        'mutation { createChat(websiteId: "%s") { id } }' % tenant.website_id, token=tenant.owner
    )
    source = await api.data(
        'mutation { addWebsiteSource(websiteId: "%s", input: {url: "http://127.0.0.1:9/", '
        "kind: PAGE}) { id } }" % tenant.website_id,
        token=tenant.owner,
    )
    return {
        "website": tenant.website_id,
        "chat": chat["createChat"]["id"],
        "document": await add_text(api, tenant, "refunds.md", "# Refunds\n\nFive days."),
        "websiteSource": source["addWebsiteSource"]["id"],
    }


async def test_lookups_are_null_for_missing_and_foreign_objects(
    api: Api, tenant_factory: Any
) -> None:
    mine, theirs = await tenant_factory(), await tenant_factory()
    foreign = await owned_objects(api, theirs)
    for kind, query in LOOKUPS.items():
        for missing in (str(uuid.uuid4()), foreign[kind]):
            assert await api.data(query % missing, token=mine.owner) == {kind: None}, kind
        found = await api.data(query % foreign[kind], token=theirs.owner)
        assert found == {kind: {"id": foreign[kind]}}


async def test_a_visitor_sees_null_for_other_websites_and_chats(
    api: Api, tenant_factory: Any
) -> None:
    mine, theirs = await tenant_factory(), await tenant_factory()
    foreign = await owned_objects(api, theirs)
    session = await visitor_session(api, mine.website_id)
    for kind in ("website", "chat"):
        found = await api.data(LOOKUPS[kind] % foreign[kind], token=session["token"], origin=ORIGIN)
        assert found == {kind: None}, kind
    own = await api.data(
        LOOKUPS["website"] % mine.website_id, token=session["token"], origin=ORIGIN
    )
    assert own == {"website": {"id": mine.website_id}}


async def test_everything_else_fails_with_not_found(api: Api, tenant_factory: Any) -> None:
    mine, theirs = await tenant_factory(), await tenant_factory()
    foreign = await owned_objects(api, theirs)
    cases = [
        *((q, "website") for q in OF_WEBSITE),
        *((q, "chat") for q in OF_CHAT),
        *((q, "document") for q in OF_DOCUMENT),
        *((q, "websiteSource") for q in OF_SOURCE),
        *((q, None) for q in OF_OTHERS),
    ]
    for query, kind in cases:
        ids = [str(uuid.uuid4())] + ([foreign[kind]] if kind else [])
        for missing in ids:
            body = await api.gql(query % missing, token=mine.owner)
            assert body["data"] is None, (query, body)
            codes = [e["extensions"]["code"] for e in body["errors"]]
            assert codes == ["NOT_FOUND"], (query, missing, body["errors"])


async def test_subscriptions_fail_with_not_found_too(api: Api, tenant: Tenant) -> None:
    async with websockets.connect(
        api.ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        origin=ORIGIN,  # type: ignore[arg-type]
    ) as ws:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {tenant.owner}"}}
        await ws.send(json.dumps(init))
        assert (await recv(ws))["type"] == "connection_ack"
        for op, query in enumerate(
            [
                'subscription { chatStream(chatId: "%s", message: "Hi?") { __typename } }',
                'subscription { documentStatus(documentId: "%s") { id } }',
                'subscription { websiteSourceStatus(sourceId: "%s") { id } }',
            ]
        ):
            payload = {"query": query % uuid.uuid4()}
            await ws.send(json.dumps({"id": str(op), "type": "subscribe", "payload": payload}))
            codes = []
            while (reply := await recv(ws))["type"] not in ("complete", "error"):
                assert reply["id"] == str(op) and reply["type"] == "next", reply
                codes += [e["extensions"]["code"] for e in reply["payload"]["errors"]]
            if reply["type"] == "error":
                codes += [e["extensions"]["code"] for e in reply["payload"]]
            assert codes == ["NOT_FOUND"], query


def test_the_rule_is_written_where_clients_read_it() -> None:
    from askbase.schema.build import build_schema

    query = build_schema()._schema.query_type
    assert query is not None
    for name in LOOKUPS:
        field = query.fields[name]
        assert "null" in (field.description or "").lower(), name
        assert "never NOT_FOUND" in (field.args["id"].description or ""), name
    for name in ("messages", "chats", "documents", "websiteSources", "search", "usage"):
        assert "NOT_FOUND" in (query.fields[name].description or ""), name
