"""ChatFailed carries its code twice: `code` as a string (as before) and `errorCode` as the
ChatErrorCode enum that codegen turns into a union of literals."""

from __future__ import annotations

import json
import socket
import uuid
from typing import Any

import pytest
import websockets

from askbase.app.chat import answer
from askbase.schema.build import build_schema
from askbase.schema.types import ChatErrorCode, ChatFailed, chat_event
from tests.conftest import ORIGIN, Tenant, owner_token
from tests.knowledge.test_search import add_text
from tests.web.test_ws import recv

STREAM = """
subscription($c: ID!, $m: String!) {
  chatStream(chatId: $c, message: $m) {
    __typename
    ... on ChatFailed { messageId code errorCode detail }
  }
}"""


@pytest.mark.parametrize("code", [c.value for c in ChatErrorCode])
def test_every_code_maps_to_its_enum_value(code: str) -> None:
    event = chat_event(answer.FailedEvent(uuid.uuid4(), code, "It failed."))
    assert isinstance(event, ChatFailed)
    assert event.code == code and event.error_code is ChatErrorCode(code)


def test_an_unknown_code_is_internal_in_the_enum_and_kept_in_the_string() -> None:
    event = chat_event(answer.FailedEvent(None, "SOMETHING_NEW", "It failed."))
    assert isinstance(event, ChatFailed)
    assert event.code == "SOMETHING_NEW" and event.error_code is ChatErrorCode.INTERNAL


def test_the_enum_holds_the_codes_of_the_contract_an_answer_can_end_with() -> None:
    enum = build_schema()._schema.type_map["ChatErrorCode"]
    assert set(getattr(enum, "values", {})) == {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "RATE_LIMITED",
        "PAYLOAD_TOO_LARGE",
        "UNAVAILABLE",
        "INTERNAL",
        "HUMAN_HANDLING",  # no error: the website's team handles the chat (takeOverChat)
    }


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_a_model_that_cannot_be_reached_ends_the_answer_with_unavailable(
    start_api: Any,
) -> None:
    settings = {
        "LLM_PROVIDER": "openai",
        "LLM_BASE_URL": f"http://127.0.0.1:{closed_port()}/v1",
        "LLM_MAX_RETRIES": 0,
    }
    async with start_api(**settings) as api:
        owner = uuid.uuid4()
        token = owner_token(owner)
        created = await api.data(
            "mutation($i: CreateWebsiteInput!) { createWebsite(input: $i) { id } }",
            {"i": {"domain": f"failed-{owner.hex[:8]}.example"}},
            token=token,
        )
        site = Tenant(token, owner, created["createWebsite"]["id"])
        await add_text(api, site, "refunds.md", "# Refunds\n\nRefunds take five working days.")
        chat = await api.data(
            'mutation { createChat(websiteId: "%s") { id } }' % site.website_id, token=token
        )
        async with websockets.connect(
            api.ws_url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            origin=ORIGIN,  # type: ignore[arg-type]
        ) as ws:
            init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            await ws.send(json.dumps(init))
            assert (await recv(ws))["type"] == "connection_ack"
            variables = {"c": chat["createChat"]["id"], "m": "How long do refunds take?"}
            payload = {"query": STREAM, "variables": variables}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            got = []
            while (message := await recv(ws))["type"] != "complete":
                got.append(message["payload"]["data"]["chatStream"])
    assert [e["__typename"] for e in got] == ["SourcesFound", "ChatFailed"]
    failed = got[-1]
    assert failed["code"] == "UNAVAILABLE" and failed["errorCode"] == "UNAVAILABLE"
    assert failed["messageId"] and failed["detail"]
