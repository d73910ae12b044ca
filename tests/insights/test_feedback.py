"""Ratings of answers and their confidence, over real chats with the extractive answerer:
who may rate, what is refused, and that nothing leaks between tenants."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from tests.chat.test_chat_stream import REFUNDS, connected, events, new_chat, start
from tests.conftest import ORIGIN, Api, Tenant, visitor_session
from tests.database.test_supabase import reached
from tests.knowledge.test_search import add_text

RATE = """
mutation($m: ID!, $r: Rating!, $c: String) {
  rateMessage(messageId: $m, rating: $r, comment: $c) { messageId rating comment createdAt }
}"""
MESSAGES = """
query($c: ID!) {
  messages(chatId: $c) { nodes { id role confidence feedback { messageId rating comment } } }
}"""


async def ask(api: Api, token: str, chat_id: str, question: str) -> dict[str, Any]:
    """The finished assistant message of one question, asked over a WebSocket."""
    async with connected(api, "graphql-transport-ws", token) as ws:
        await start(ws, "graphql-transport-ws", chat_id, question)
        got = await events(ws)
    assert got[-1]["__typename"] == "MessageDone", got[-1]
    message: dict[str, Any] = got[-1]["message"]
    return message


async def answered_chat(api: Api, tenant: Tenant, question: str) -> tuple[str, str, str]:
    """A visitor's chat with one answer: (visitor token, chat id, assistant message id)."""
    session = await visitor_session(api, tenant.website_id)
    chat_id = await new_chat(api, session["token"], tenant.website_id)
    message = await ask(api, session["token"], chat_id, question)
    return session["token"], chat_id, message["id"]


async def stored_messages(api: Api, token: str, chat_id: str) -> list[dict[str, Any]]:
    data = await api.data(MESSAGES, {"c": chat_id}, token=token, origin=ORIGIN)
    nodes: list[dict[str, Any]] = data["messages"]["nodes"]
    return nodes


def visitor_claims(website_id: str, visitor_id: uuid.UUID) -> dict[str, Any]:
    return {"sub": str(visitor_id), "role": "anon", "website_id": website_id}


async def test_a_visitor_rates_an_answer_and_rating_again_replaces_it(
    api: Api, tenant: Tenant
) -> None:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    token, chat_id, message_id = await answered_chat(api, tenant, "How long do refunds take?")
    up = (await api.data(RATE, {"m": message_id, "r": "UP"}, token=token, origin=ORIGIN))[
        "rateMessage"
    ]
    assert up["messageId"] == message_id and up["rating"] == "UP" and up["comment"] is None
    comment = "  <b>Not what I asked</b>  "
    down = (
        await api.data(
            RATE, {"m": message_id, "r": "DOWN", "c": comment}, token=token, origin=ORIGIN
        )
    )["rateMessage"]
    assert down["rating"] == "DOWN" and down["comment"] == "<b>Not what I asked</b>"
    for reader in (token, tenant.owner):
        user, assistant = await stored_messages(api, reader, chat_id)
        assert user["feedback"] is None and user["confidence"] is None
        assert assistant["feedback"] == {
            "messageId": message_id,
            "rating": "DOWN",
            "comment": "<b>Not what I asked</b>",
        }


async def test_the_owner_rates_a_visitors_answer(api: Api, tenant: Tenant) -> None:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    token, chat_id, message_id = await answered_chat(api, tenant, "Can gift cards be refunded?")
    rated = await api.data(RATE, {"m": message_id, "r": "UP"}, token=tenant.owner)
    assert rated["rateMessage"]["rating"] == "UP"
    assistant = (await stored_messages(api, token, chat_id))[1]
    assert assistant["feedback"]["rating"] == "UP"


async def test_answers_record_their_confidence(api: Api, tenant: Tenant) -> None:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    token = (await visitor_session(api, tenant.website_id))["token"]
    chat_id = await new_chat(api, token, tenant.website_id)
    await ask(api, token, chat_id, "How long do refunds take?")
    await ask(api, token, chat_id, "Which volcano erupted in 1815?")
    answers = [m for m in await stored_messages(api, token, chat_id) if m["role"] == "ASSISTANT"]
    supported, unsupported = (a["confidence"] for a in answers)
    assert 0.5 < supported <= 1 and unsupported == 0


async def test_bad_ratings_are_refused_and_nothing_is_stored(
    api: Api, tenant: Tenant, admin: asyncpg.Connection
) -> None:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    token, chat_id, message_id = await answered_chat(api, tenant, "How long do refunds take?")
    user_message = (await stored_messages(api, token, chat_id))[0]["id"]
    refusals = [
        ({"m": user_message, "r": "UP"}, "FORBIDDEN"),
        ({"m": str(uuid.uuid4()), "r": "UP"}, "NOT_FOUND"),
        ({"m": "not-an-id", "r": "UP"}, "BAD_USER_INPUT"),
        ({"m": message_id, "r": "DOWN", "c": "x" * 1001}, "BAD_USER_INPUT"),
    ]
    for variables, code in refusals:
        error = await api.error(RATE, variables, token=token, origin=ORIGIN)
        assert error["extensions"]["code"] == code, (variables, error)
    stored = await admin.fetchval(
        "select count(*) from public.message_feedback where chat_id = $1", uuid.UUID(chat_id)
    )
    assert stored == 0


async def test_other_visitors_and_owners_can_neither_rate_nor_read(
    api: Api, tenant: Tenant, tenant_factory: Any, admin: asyncpg.Connection
) -> None:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    token, chat_id, message_id = await answered_chat(api, tenant, "How long do refunds take?")
    await api.data(RATE, {"m": message_id, "r": "DOWN", "c": "mine"}, token=token, origin=ORIGIN)
    stranger = (await visitor_session(api, tenant.website_id))["token"]
    other: Tenant = await tenant_factory()
    for intruder in (stranger, other.owner):
        error = await api.error(RATE, {"m": message_id, "r": "UP"}, token=intruder, origin=ORIGIN)
        assert error["extensions"]["code"] == "NOT_FOUND"
    rating = await admin.fetchval(
        "select rating from public.message_feedback where message_id = $1", uuid.UUID(message_id)
    )
    assert rating == "down"
    # The database itself refuses them, whatever the resolvers do.
    read = "select message_id from public.message_feedback where message_id = $1"
    write = (
        "update public.message_feedback set rating = 'up' where message_id = $1 "
        "returning message_id"
    )
    message = uuid.UUID(message_id)
    someone = visitor_claims(tenant.website_id, uuid.uuid4())
    other_owner = {"sub": str(other.owner_id), "role": "authenticated"}
    for role, claims in (("anon", someone), ("authenticated", other_owner)):
        assert await reached(admin, role, claims, read, message) == 0
        assert await reached(admin, role, claims, write, message) == 0
    owner = {"sub": str(tenant.owner_id), "role": "authenticated"}
    assert await reached(admin, "authenticated", owner, read, message) == 1
    # Nor can a visitor write a rating into a chat that is not theirs.
    insert = (
        "insert into public.message_feedback (message_id, chat_id, website_id, rating) "
        "values ($1, $2, $3, 'up') returning message_id"
    )
    args = (uuid.uuid4(), uuid.UUID(chat_id), uuid.UUID(tenant.website_id))
    try:
        inserted = await reached(admin, "anon", someone, insert, *args)
    except asyncpg.CheckViolationError:
        inserted = 0
    assert inserted == 0


async def test_ratings_are_rate_limited(api: Api, tenant: Tenant, start_api: Any) -> None:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    token, _, message_id = await answered_chat(api, tenant, "How long do refunds take?")
    async with start_api(RATE_LIMIT_IP_PER_MINUTE=2) as limited:
        codes = []
        for _ in range(4):
            body = await limited.gql(RATE, {"m": message_id, "r": "UP"}, token=token, origin=ORIGIN)
            codes.append(body["errors"][0]["extensions"]["code"] if "errors" in body else "OK")
    assert "RATE_LIMITED" in codes and codes[0] == "OK"
