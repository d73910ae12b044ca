"""The Python `gql` client against askbase: queries and mutations over HTTP (httpx), and
chatStream over WebSockets with both subprotocols it speaks."""

from __future__ import annotations

from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.chat.test_chat_stream import REFUNDS, STREAM
from tests.conftest import ORIGIN, Api, Tenant, visitor_session
from tests.knowledge.test_search import add_text

CREATE_CHAT = "mutation($w: ID!) { createChat(websiteId: $w) { id websiteId } }"
MESSAGES = "query($c: ID!) { messages(chatId: $c) { nodes { role status content } } }"


@pytest.mark.parametrize(
    "subprotocol",
    [WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL, WebsocketsTransport.APOLLO_SUBPROTOCOL],
)
async def test_gql_over_http_and_websockets(api: Api, tenant: Tenant, subprotocol: str) -> None:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    session = await visitor_session(api, tenant.website_id)
    headers = {"authorization": f"Bearer {session['token']}", "origin": ORIGIN}
    http = HTTPXAsyncTransport(url=api.base_url + "/graphql", headers=headers)
    async with Client(transport=http) as client:
        chat: dict[str, Any] = await client.execute(
            GraphQLRequest(CREATE_CHAT, variable_values={"w": tenant.website_id})
        )
    chat_id = chat["createChat"]["id"]

    ws = WebsocketsTransport(
        url=api.ws_url,
        init_payload={"authorization": f"Bearer {session['token']}"},
        headers={"origin": ORIGIN},
        subprotocols=[subprotocol],
    )
    events = []
    async with Client(transport=ws) as client:
        question = {"c": chat_id, "m": "How long do refunds take?"}
        async for result in client.subscribe(GraphQLRequest(STREAM, variable_values=question)):
            events.append(result["chatStream"])
        if subprotocol == WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL:
            # graphql-transport-ws carries queries too; Strawberry's legacy graphql-ws
            # carries subscriptions only ("queries are not allowed"), so HTTP below.
            history = await client.execute(GraphQLRequest(MESSAGES, variable_values={"c": chat_id}))
        else:
            async with Client(transport=HTTPXAsyncTransport(url=http.url, headers=headers)) as c:
                history = await c.execute(GraphQLRequest(MESSAGES, variable_values={"c": chat_id}))
    kinds = [e["__typename"] for e in events]
    assert kinds[0] == "SourcesFound" and kinds[-1] == "MessageDone"
    assert "five working days" in events[-1]["message"]["content"]
    assert [n["role"] for n in history["messages"]["nodes"]] == ["USER", "ASSISTANT"]
