"""deleteVisitorData: an owner deletes one visitor's chats, messages and ratings on their
website (a GDPR erasure), through the API, and the visitor's questions leave the
knowledge gaps; other visitors, other websites and other owners are untouched."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from tests.chat.test_chat_stream import new_chat
from tests.conftest import ADD_MESSAGE, ORIGIN, Api, Tenant, visitor_session
from tests.insights.test_feedback import RATE, ask
from tests.insights.test_gaps import GAPS, OPENING, SHIPPING

DELETE = """
mutation($w: ID!, $v: ID!) {
  deleteVisitorData(websiteId: $w, visitorId: $v) { chats messages feedback }
}"""
CHATS = "query($w: ID!) { chats(websiteId: $w) { nodes { id visitorId } } }"


async def rows(admin: asyncpg.Connection, website_id: str) -> dict[str, int]:
    counts = await admin.fetchrow(
        """
        select (select count(*) from chats where website_id = $1) as chats,
               (select count(*) from messages where website_id = $1) as messages,
               (select count(*) from message_feedback where website_id = $1) as feedback,
               (select count(*) from knowledge_gap_questions where website_id = $1) as questions
        """,
        uuid.UUID(website_id),
    )
    return dict(counts)


async def test_an_owner_deletes_one_visitors_data(
    api: Api, tenant_factory: Any, admin: asyncpg.Connection
) -> None:
    tenant: Tenant = await tenant_factory()
    bystander: Tenant = await tenant_factory()
    # Alice: a chat with two badly answered questions, one rated down; a second chat.
    alice = await visitor_session(api, tenant.website_id)
    chat = await new_chat(api, alice["token"], tenant.website_id)
    await ask(api, alice["token"], chat, SHIPPING[0])
    answer = await ask(api, alice["token"], chat, OPENING[0])
    await api.data(
        RATE,
        {"m": answer["id"], "r": "DOWN", "c": "my order is #1234"},
        token=alice["token"],
        origin=ORIGIN,
    )
    second = await new_chat(api, alice["token"], tenant.website_id)
    await api.data(
        ADD_MESSAGE, {"c": second, "m": "I am Alice"}, token=alice["token"], origin=ORIGIN
    )
    # Bob asks about shipping too, on the same website; Carol on another website.
    bob = await visitor_session(api, tenant.website_id)
    await ask(api, bob["token"], await new_chat(api, bob["token"], tenant.website_id), SHIPPING[1])
    carol = await visitor_session(api, bystander.website_id)
    await ask(
        api, carol["token"], await new_chat(api, carol["token"], bystander.website_id), SHIPPING[0]
    )
    untouched = await rows(admin, bystander.website_id)

    # The owner finds Alice's visitor id on her chats.
    listed = await api.data(CHATS, {"w": tenant.website_id}, token=tenant.owner)
    assert {c["visitorId"] for c in listed["chats"]["nodes"]} == {
        alice["visitorId"],
        bob["visitorId"],
    }
    deleted = await api.data(
        DELETE, {"w": tenant.website_id, "v": alice["visitorId"]}, token=tenant.owner
    )
    assert deleted["deleteVisitorData"] == {"chats": 2, "messages": 5, "feedback": 1}

    left = await admin.fetch(
        "select visitor_id from chats where website_id = $1", uuid.UUID(tenant.website_id)
    )
    assert [str(r["visitor_id"]) for r in left] == [bob["visitorId"]]
    assert await rows(admin, tenant.website_id) == {
        "chats": 1,
        "messages": 2,
        "feedback": 0,
        "questions": 1,
    }
    texts = await admin.fetchval(
        "select count(*) from messages where website_id = $1 and content in ($2, $3, 'I am Alice')",
        uuid.UUID(tenant.website_id),
        SHIPPING[0],
        OPENING[0],
    )
    assert texts == 0
    # Alice's questions left the gaps: the shipping gap is Bob's wording alone, and the
    # opening-hours gap, hers alone, is gone.
    found = await api.data(GAPS, {"w": tenant.website_id}, token=tenant.owner)
    assert [(g["question"], g["examples"], g["count"]) for g in found["knowledgeGaps"]] == [
        (SHIPPING[1], [], 1)
    ]
    assert await rows(admin, bystander.website_id) == untouched
    # Asking again deletes nothing, and is no error.
    again = await api.data(
        DELETE, {"w": tenant.website_id, "v": alice["visitorId"]}, token=tenant.owner
    )
    assert again["deleteVisitorData"] == {"chats": 0, "messages": 0, "feedback": 0}


async def test_only_the_websites_owner_may_delete_a_visitors_data(
    api: Api, tenant_factory: Any, admin: asyncpg.Connection
) -> None:
    tenant: Tenant = await tenant_factory()
    other: Tenant = await tenant_factory()
    visitor = await visitor_session(api, tenant.website_id)
    chat = await new_chat(api, visitor["token"], tenant.website_id)
    await api.data(ADD_MESSAGE, {"c": chat, "m": "hello"}, token=visitor["token"], origin=ORIGIN)
    before = await rows(admin, tenant.website_id)
    target = {"w": tenant.website_id, "v": visitor["visitorId"]}

    cases = [
        (DELETE, target, {"token": other.owner}, "NOT_FOUND"),  # not theirs: as if missing
        (DELETE, target, {"token": visitor["token"], "origin": ORIGIN}, "FORBIDDEN"),
        (DELETE, target, {}, "UNAUTHENTICATED"),
        (DELETE, {**target, "v": "not-an-id"}, {"token": tenant.owner}, "BAD_USER_INPUT"),
        (DELETE, {**target, "w": str(uuid.uuid4())}, {"token": tenant.owner}, "NOT_FOUND"),
    ]
    for query, variables, auth, code in cases:
        error = await api.error(query, variables, **auth)
        assert error["extensions"]["code"] == code, (variables, auth, error)
    assert await rows(admin, tenant.website_id) == before
