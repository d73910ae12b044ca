"""chatStream over real WebSocket connections (both protocols) with the extractive
answerer: event order, stored messages, citations, "I don't know", cancellation."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
import websockets

from tests.conftest import CREATE_CHAT, ORIGIN, Api, Tenant, visitor_session
from tests.knowledge.test_search import add_text
from tests.web.test_ws import recv

STREAM = """
subscription($c: ID!, $m: String!) {
  chatStream(chatId: $c, message: $m) {
    __typename
    ... on SourcesFound { messageId sources { documentId title snippet } }
    ... on TokenDelta { messageId text }
    ... on MessageDone { message { id role content status sources { documentId } usage { model totalTokens } } }
    ... on ChatFailed { failedId: messageId code detail legacy: message retryAfter }
  }
}"""
MESSAGES = "query($c: ID!) { messages(chatId: $c) { nodes { role content status } } }"
REFUNDS = (
    "# Refunds\n\nRefunds are paid within five working days of the return reaching us.\n\n"
    "## Exceptions\n\nGift cards cannot be refunded. Sale items are refunded as store credit."
)


@asynccontextmanager
async def connected(api: Api, protocol: str, token: str) -> AsyncIterator[Any]:
    async with websockets.connect(
        api.ws_url,
        subprotocols=[protocol],  # type: ignore[list-item]
        origin=ORIGIN,  # type: ignore[arg-type]
    ) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        assert (await recv(ws))["type"] == "connection_ack"
        yield ws


async def start(ws: Any, protocol: str, chat_id: str, message: str, op: str = "1") -> None:
    kind = "subscribe" if protocol == "graphql-transport-ws" else "start"
    payload = {"query": STREAM, "variables": {"c": chat_id, "m": message}}
    await ws.send(json.dumps({"id": op, "type": kind, "payload": payload}))


async def events(ws: Any) -> list[dict[str, Any]]:
    """Every event of operation 1 until it completes."""
    found = []
    while True:
        message = await asyncio.wait_for(recv(ws), 30)
        if message["type"] == "complete":
            return found
        assert message["type"] in ("next", "data"), message
        assert "errors" not in message["payload"], message
        found.append(message["payload"]["data"]["chatStream"])


async def new_chat(api: Api, token: str, website_id: str) -> str:
    chat_id: str = (await api.data(CREATE_CHAT, {"w": website_id}, token=token, origin=ORIGIN))[
        "createChat"
    ]["id"]
    return chat_id


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_a_visitor_gets_a_streamed_cited_answer(
    api: Api, tenant: Tenant, protocol: str
) -> None:
    document = await add_text(api, tenant, "refunds.md", REFUNDS)
    session = await visitor_session(api, tenant.website_id)
    chat_id = await new_chat(api, session["token"], tenant.website_id)
    async with connected(api, protocol, session["token"]) as ws:
        await start(ws, protocol, chat_id, "How long do refunds take?")
        got = await events(ws)
    kinds = [e["__typename"] for e in got]
    assert kinds[0] == "SourcesFound" and kinds[-1] == "MessageDone"
    assert set(kinds[1:-1]) == {"TokenDelta"} and len(kinds) > 5
    assert got[0]["sources"][0]["documentId"] == document
    text = "".join(e["text"] for e in got[1:-1])
    assert "five working days" in text and "[1]" in text
    done = got[-1]["message"]
    assert done["content"] == text and done["status"] == "COMPLETE"
    assert done["role"] == "ASSISTANT" and done["sources"][0]["documentId"] == document
    assert done["usage"]["model"] == "extractive" and done["usage"]["totalTokens"] > 0
    stored = (await api.data(MESSAGES, {"c": chat_id}, token=session["token"], origin=ORIGIN))[
        "messages"
    ]["nodes"]
    assert [(m["role"], m["status"]) for m in stored] == [
        ("USER", "COMPLETE"),
        ("ASSISTANT", "COMPLETE"),
    ]
    assert stored[0]["content"] == "How long do refunds take?" and stored[1]["content"] == text


async def test_nothing_relevant_means_i_do_not_know(api: Api, tenant: Tenant) -> None:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    chat_id = await new_chat(api, tenant.owner, tenant.website_id)
    async with connected(api, "graphql-transport-ws", tenant.owner) as ws:
        await start(ws, "graphql-transport-ws", chat_id, "Which volcano erupted in 1815?")
        got = await events(ws)
    assert got[0] == {"__typename": "SourcesFound", "messageId": got[0]["messageId"], "sources": []}
    assert got[-1]["message"]["content"].startswith("I don't know")


async def test_refusals_come_before_any_event(
    api: Api, tenant_factory: Any, admin: asyncpg.Connection
) -> None:
    site_a: Tenant = await tenant_factory()
    site_b: Tenant = await tenant_factory()
    other_chat = await new_chat(api, site_b.owner, site_b.website_id)
    session = await visitor_session(api, site_a.website_id)
    own_chat = await new_chat(api, session["token"], site_a.website_id)
    async with connected(api, "graphql-transport-ws", session["token"]) as ws:
        for op, (chat_id, message, code) in enumerate(
            [
                (other_chat, "hello?", "NOT_FOUND"),
                (own_chat, "x" * 9000, "BAD_USER_INPUT"),
                (own_chat, "   ", "BAD_USER_INPUT"),
                ("not-an-id", "hello?", "BAD_USER_INPUT"),
            ]
        ):
            await start(ws, "graphql-transport-ws", chat_id, message, op=str(op))
            reply = await asyncio.wait_for(recv(ws), 10)
            # An execution error: one result with errors and no data, then "complete".
            assert reply["type"] == "next" and reply["payload"]["data"] is None, reply
            assert reply["payload"]["errors"][0]["extensions"]["code"] == code
            assert (await recv(ws)) == {"id": str(op), "type": "complete"}
    assert (
        await admin.fetchval(
            "select count(*) from public.messages where chat_id = any($1::uuid[])",
            [uuid.UUID(own_chat), uuid.UUID(other_chat)],
        )
        == 0
    )


async def test_completing_early_never_leaves_a_streaming_message(
    api: Api, tenant: Tenant, admin: asyncpg.Connection
) -> None:
    long_answer = " ".join(
        f"Refunds rule {i}: refunds for order type {i} are paid within {i + 2} days."
        for i in range(40)
    )
    await add_text(api, tenant, "long.txt", long_answer)
    chat_id = await new_chat(api, tenant.owner, tenant.website_id)
    async with connected(api, "graphql-transport-ws", tenant.owner) as ws:
        await start(ws, "graphql-transport-ws", chat_id, "How are refunds paid for orders?")
        first = await recv(ws)
        assert first["payload"]["data"]["chatStream"]["__typename"] == "SourcesFound"
        await ws.send(json.dumps({"id": "1", "type": "complete"}))
    rows: list[asyncpg.Record] = []
    for _ in range(100):
        rows = await admin.fetch(
            "select status, content from public.messages where chat_id = $1 and role = 'assistant'",
            uuid.UUID(chat_id),
        )
        if rows and rows[0]["status"] != "streaming":
            break
        await asyncio.sleep(0.05)
    # The extractive answerer may finish before the "complete" arrives; either way the
    # answer is finalized once. (Cancelling a slow model mid-answer: test_llm_peer.py.)
    assert len(rows) == 1 and rows[0]["status"] in ("incomplete", "complete")


USAGE = """
query($w: ID!, $from: DateTime, $to: DateTime) {
  usage(websiteId: $w, from: $from, to: $to) {
    answers promptTokens completionTokens totalTokens byModel { model answers totalTokens }
  }
}"""


async def test_owners_see_token_usage_per_model_and_period(api: Api, tenant: Tenant) -> None:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    session = await visitor_session(api, tenant.website_id)
    for question in ("How long do refunds take?", "Can gift cards be refunded?"):
        chat_id = await new_chat(api, session["token"], tenant.website_id)
        async with connected(api, "graphql-transport-ws", session["token"]) as ws:
            await start(ws, "graphql-transport-ws", chat_id, question)
            assert (await events(ws))[-1]["__typename"] == "MessageDone"
    totals = (await api.data(USAGE, {"w": tenant.website_id}, token=tenant.owner))["usage"]
    assert totals["answers"] == 2 and totals["totalTokens"] > 0
    assert totals["totalTokens"] == totals["promptTokens"] + totals["completionTokens"]
    assert totals["byModel"] == [
        {"model": "extractive", "answers": 2, "totalTokens": totals["totalTokens"]}
    ]
    later = {"w": tenant.website_id, "from": "2999-01-01T00:00:00Z"}
    assert (await api.data(USAGE, later, token=tenant.owner))["usage"]["answers"] == 0
    backwards = {**later, "to": "2000-01-01T00:00:00Z"}
    error = await api.error(USAGE, backwards, token=tenant.owner)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    error = await api.error(USAGE, {"w": tenant.website_id}, token=session["token"], origin=ORIGIN)
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_chat_stream_is_rate_limited_before_any_event(
    start_api: Any, tenant: Tenant, admin: asyncpg.Connection
) -> None:
    async with start_api(RATE_LIMIT_IP_PER_MINUTE=3) as limited:
        session = await visitor_session(limited, tenant.website_id)  # 1
        chat_id = await new_chat(limited, session["token"], tenant.website_id)  # 2
        async with connected(limited, "graphql-transport-ws", session["token"]) as ws:
            await start(ws, "graphql-transport-ws", chat_id, "Hello?", op="1")  # 3
            assert (await events(ws))[-1]["__typename"] == "MessageDone"
            await start(ws, "graphql-transport-ws", chat_id, "Hello again?", op="2")
            reply = await asyncio.wait_for(recv(ws), 10)
    error = reply["payload"]["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["retryAfter"] > 0
    count = await admin.fetchval(
        "select count(*) from public.messages where chat_id = $1", uuid.UUID(chat_id)
    )
    assert count == 2  # the first question and its answer; the limited one wrote nothing


async def test_chat_stream_over_server_sent_events(api: Api, tenant: Tenant) -> None:
    """graphql-sse, distinct connections mode: one POST answered as an event stream."""
    await add_text(api, tenant, "refunds.md", REFUNDS)
    session = await visitor_session(api, tenant.website_id)
    chat_id = await new_chat(api, session["token"], tenant.website_id)
    headers = {
        "authorization": f"Bearer {session['token']}",
        "origin": ORIGIN,
        "accept": "text/event-stream",
    }
    body = {"query": STREAM, "variables": {"c": chat_id, "m": "How long do refunds take?"}}
    found: list[tuple[str, Any]] = []
    async with api.http.stream("POST", "/graphql", json=body, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "next":
                found.append((event, json.loads(line.removeprefix("data: "))))
            elif line.startswith("data") and event == "complete":
                found.append((event, None))
    assert found[-1] == ("complete", None)
    kinds = [payload["data"]["chatStream"]["__typename"] for _, payload in found[:-1]]
    assert kinds[0] == "SourcesFound" and kinds[-1] == "MessageDone"
    assert "five working days" in found[-2][1]["data"]["chatStream"]["message"]["content"]


async def test_a_one_paragraph_document_is_answered_not_declined(api: Api, tenant: Tenant) -> None:
    await add_text(api, tenant, "warehouse.txt", "The warehouse in Lyon opens at 7:00.")
    session = await visitor_session(api, tenant.website_id)
    chat_id = await new_chat(api, session["token"], tenant.website_id)
    async with connected(api, "graphql-transport-ws", session["token"]) as ws:
        await start(ws, "graphql-transport-ws", chat_id, "Where is the warehouse?")
        got = await events(ws)
    assert got[0]["sources"], got
    assert "Lyon" in got[-1]["message"]["content"], got[-1]
