"""A human when needed, over real WebSocket connections: a visitor asks for a person, the
owner hears of it live, takes the chat over, replies, and hands it back to the assistant.
Row-level security keeps other owners and other visitors out of all of it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from tests.chat.test_chat_stream import STREAM, connected, new_chat
from tests.conftest import ORIGIN, Api, Tenant, visitor_session
from tests.web.test_ws import recv

CHAT_EVENTS = """
subscription($c: ID!) {
  chatEvents(chatId: $c) {
    __typename
    ... on HandoffChanged { chat { id handoff handoffNote takenOverAt } }
    ... on ChatMessageAdded { message { id role content status } }
  }
}"""
WEBSITE_EVENTS = """
subscription($w: ID!, $since: DateTime) {
  websiteEvents(websiteId: $w, since: $since) {
    __typename
    ... on ChatStarted { chat { id handoff } }
    ... on HandoffRequested { chat { id handoff handoffNote handoffRequestedAt } }
  }
}"""
REQUEST_HUMAN = """
mutation($c: ID!, $n: String) {
  requestHuman(chatId: $c, note: $n) { id handoff handoffNote handoffRequestedAt }
}"""
TAKE_OVER = "mutation($c: ID!) { takeOverChat(chatId: $c) { id handoff takenOverAt } }"
RELEASE = "mutation($c: ID!) { releaseChat(chatId: $c) { id handoff takenOverAt } }"
REPLY = (
    "mutation($c: ID!, $m: String!) { replyToChat(chatId: $c, content: $m) { id role content } }"
)
MESSAGES = "query($c: ID!) { messages(chatId: $c) { nodes { role content status } } }"


class Operations:
    """Several operations on one socket: each message goes to its operation's queue."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.pending: dict[str, list[dict[str, Any]]] = defaultdict(list)

    async def subscribe(self, op: str, query: str, variables: dict[str, Any]) -> None:
        payload = {"query": query, "variables": variables}
        await self.ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))

    async def next(self, op: str) -> dict[str, Any]:
        while not self.pending[op]:
            message = await asyncio.wait_for(recv(self.ws), 30)
            self.pending[str(message.get("id"))].append(message)
        return self.pending[op].pop(0)

    async def event(self, op: str, field: str) -> dict[str, Any]:
        message = await self.next(op)
        assert message["type"] == "next" and "errors" not in message["payload"], message
        event: dict[str, Any] = message["payload"]["data"][field]
        return event

    async def until_complete(self, op: str, field: str) -> list[dict[str, Any]]:
        found = []
        while (message := await self.next(op))["type"] != "complete":
            assert message["type"] == "next" and "errors" not in message["payload"], message
            found.append(message["payload"]["data"][field])
        return found

    async def error_code(self, op: str) -> str:
        message = await self.next(op)
        assert message["type"] == "next" and message["payload"]["data"] is None, message
        assert (await self.next(op))["type"] == "complete"
        code: str = message["payload"]["errors"][0]["extensions"]["code"]
        return code


async def test_a_visitor_gets_a_person_and_then_the_assistant_again(
    api: Api, tenant: Tenant
) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    session = await visitor_session(api, tenant.website_id)
    visitor = session["token"]
    async with (
        connected(api, "graphql-transport-ws", tenant.owner) as owner_ws,
        connected(api, "graphql-transport-ws", visitor) as visitor_ws,
    ):
        owner = Operations(owner_ws)
        await owner.subscribe("site", WEBSITE_EVENTS, {"w": tenant.website_id, "since": since})
        chat_id = await new_chat(api, visitor, tenant.website_id)
        started = await owner.event("site", "websiteEvents")
        assert started == {"__typename": "ChatStarted", "chat": {"id": chat_id, "handoff": "NONE"}}

        me = Operations(visitor_ws)
        await me.subscribe("chat", CHAT_EVENTS, {"c": chat_id})
        first = await me.event("chat", "chatEvents")
        assert first["__typename"] == "HandoffChanged" and first["chat"]["handoff"] == "NONE"

        # The visitor asks for a person: the owner's feed hears of it, with the note.
        asked = await api.data(
            REQUEST_HUMAN, {"c": chat_id, "n": "About my order"}, token=visitor, origin=ORIGIN
        )
        assert asked["requestHuman"]["handoff"] == "REQUESTED"
        requested = await owner.event("site", "websiteEvents")
        assert requested["__typename"] == "HandoffRequested"
        assert requested["chat"]["id"] == chat_id
        assert requested["chat"]["handoffNote"] == "About my order"
        assert (await me.event("chat", "chatEvents"))["chat"]["handoff"] == "REQUESTED"

        # The owner takes over: the visitor's question is stored, the assistant is silent.
        taken = (await api.data(TAKE_OVER, {"c": chat_id}, token=tenant.owner))["takeOverChat"]
        assert taken["handoff"] == "TAKEN_OVER" and taken["takenOverAt"]
        assert (await me.event("chat", "chatEvents"))["chat"]["handoff"] == "TAKEN_OVER"
        await me.subscribe("ask", STREAM, {"c": chat_id, "m": "How long do refunds take?"})
        held = await me.until_complete("ask", "chatStream")
        assert [(e["__typename"], e["code"], e["failedId"]) for e in held] == [
            ("ChatFailed", "HUMAN_HANDLING", None)
        ]
        question = await me.event("chat", "chatEvents")
        assert question["message"]["role"] == "USER"
        assert question["message"]["content"] == "How long do refunds take?"

        # The owner replies: the visitor's widget gets it live, as the website's team.
        reply = (
            await api.data(
                REPLY, {"c": chat_id, "m": "Five working days, I checked."}, token=tenant.owner
            )
        )["replyToChat"]
        assert reply["role"] == "OWNER"
        live = await me.event("chat", "chatEvents")
        assert live == {
            "__typename": "ChatMessageAdded",
            "message": {
                "id": reply["id"],
                "role": "OWNER",
                "content": "Five working days, I checked.",
                "status": "COMPLETE",
            },
        }

        # Released: the assistant answers again.
        released = (await api.data(RELEASE, {"c": chat_id}, token=tenant.owner))["releaseChat"]
        assert released == {"id": chat_id, "handoff": "NONE", "takenOverAt": None}
        assert (await me.event("chat", "chatEvents"))["chat"]["handoff"] == "NONE"
        await me.subscribe("again", STREAM, {"c": chat_id, "m": "How long do refunds take?"})
        answer = await me.until_complete("again", "chatStream")
        assert answer[0]["__typename"] == "SourcesFound"
        assert answer[-1]["__typename"] == "MessageDone"
        # The website has no documents: the assistant says that it does not know.
        assert answer[-1]["message"]["content"].startswith("I don't know")
        roles = [(await me.event("chat", "chatEvents"))["message"]["role"] for _ in range(2)]
        assert roles == ["USER", "ASSISTANT"]

    stored = (await api.data(MESSAGES, {"c": chat_id}, token=visitor, origin=ORIGIN))["messages"]
    assert [m["role"] for m in stored["nodes"]] == ["USER", "OWNER", "USER", "ASSISTANT"]


async def test_other_owners_and_other_visitors_get_nothing(
    api: Api, tenant_factory: Any, admin: asyncpg.Connection
) -> None:
    site: Tenant = await tenant_factory()
    other: Tenant = await tenant_factory()
    session = await visitor_session(api, site.website_id)
    chat_id = await new_chat(api, session["token"], site.website_id)
    stranger = (await visitor_session(api, site.website_id))["token"]

    for token in (other.owner, stranger):  # another owner, another visitor of the website
        async with connected(api, "graphql-transport-ws", token) as ws:
            ops = Operations(ws)
            await ops.subscribe("1", CHAT_EVENTS, {"c": chat_id})
            assert await ops.error_code("1") == "NOT_FOUND"
        error = await api.error(REQUEST_HUMAN, {"c": chat_id}, token=token, origin=ORIGIN)
        assert error["extensions"]["code"] == "NOT_FOUND"
    for mutation, variables in ((TAKE_OVER, {"c": chat_id}), (REPLY, {"c": chat_id, "m": "hi"})):
        error = await api.error(mutation, variables, token=other.owner)
        assert error["extensions"]["code"] == "NOT_FOUND"
        error = await api.error(mutation, variables, token=session["token"], origin=ORIGIN)
        assert error["extensions"]["code"] == "FORBIDDEN"

    # Another owner's feed carries only their own website's chats; a visitor has none.
    async with connected(api, "graphql-transport-ws", other.owner) as ws:
        ops = Operations(ws)
        await ops.subscribe("site", WEBSITE_EVENTS, {"w": site.website_id})
        assert await ops.error_code("site") == "NOT_FOUND"
        since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
        await ops.subscribe("own", WEBSITE_EVENTS, {"w": other.website_id, "since": since})
        await api.data(REQUEST_HUMAN, {"c": chat_id}, token=session["token"], origin=ORIGIN)
        own_chat = await new_chat(api, other.owner, other.website_id)
        assert (await ops.event("own", "websiteEvents"))["chat"]["id"] == own_chat
    async with connected(api, "graphql-transport-ws", session["token"]) as ws:
        ops = Operations(ws)
        await ops.subscribe("site", WEBSITE_EVENTS, {"w": site.website_id})
        assert await ops.error_code("site") == "FORBIDDEN"

    # In the database itself: a visitor can neither set the hand-off nor write as the team.
    claims = {"role": "anon", "sub": session["visitorId"], "website_id": site.website_id}
    for sql in (
        "update public.chats set handoff = 'taken_over' where id = $1",
        "insert into public.messages (chat_id, website_id, role, content)"
        " select id, website_id, 'owner', 'planted' from public.chats where id = $1",
    ):
        transaction = admin.transaction()
        await transaction.start()
        try:
            await admin.execute(
                "select set_config('role', 'anon', true), set_config('request.jwt.claims', $1, true)",
                json.dumps(claims),
            )
            try:
                await admin.execute(sql, uuid.UUID(chat_id))
            except asyncpg.InsufficientPrivilegeError:
                pass
            else:
                raise AssertionError(f"a visitor was allowed: {sql}")
        finally:
            await transaction.rollback()


async def test_behind_a_transaction_pooler_chat_events_come_by_polling(
    api: Api, start_api: Any, tenant: Tenant
) -> None:
    """No LISTEN in transaction pool mode: the subscription looks again every second, and
    still gets what another instance wrote."""
    session = await visitor_session(api, tenant.website_id)
    chat_id = await new_chat(api, session["token"], tenant.website_id)
    async with start_api(DATABASE_POOL_MODE="transaction") as pooled:
        assert not pooled.state.events.listen
        async with connected(pooled, "graphql-transport-ws", session["token"]) as ws:
            me = Operations(ws)
            await me.subscribe("chat", CHAT_EVENTS, {"c": chat_id})
            assert (await me.event("chat", "chatEvents"))["chat"]["handoff"] == "NONE"
            await api.data(TAKE_OVER, {"c": chat_id}, token=tenant.owner)
            assert (await me.event("chat", "chatEvents"))["chat"]["handoff"] == "TAKEN_OVER"
            await api.data(REPLY, {"c": chat_id, "m": "We are here."}, token=tenant.owner)
            message = (await me.event("chat", "chatEvents"))["message"]
            assert (message["role"], message["content"]) == ("OWNER", "We are here.")
