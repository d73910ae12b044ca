"""GraphQL over real WebSocket connections, with both subscription protocols."""

from __future__ import annotations

import json
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.conftest import ORIGIN, Api, owner_token, visitor_session


async def recv(ws: Any) -> dict[str, Any]:
    """The next protocol message, skipping the legacy protocol's keep-alives ("ka")."""
    while True:
        message: dict[str, Any] = json.loads(await ws.recv())
        if message.get("type") != "ka":
            return message


async def test_transport_ws_authenticates_in_connection_init(api: Api, tenant: Any) -> None:
    session = await visitor_session(api, tenant.website_id)
    async with websockets.connect(
        api.ws_url,
        subprotocols=["graphql-transport-ws"],
        origin=ORIGIN,  # type: ignore[list-item]
    ) as ws:
        assert ws.subprotocol == "graphql-transport-ws"
        await ws.send(
            json.dumps(
                {
                    "type": "connection_init",
                    "payload": {"authorization": f"Bearer {session['token']}"},
                }
            )
        )
        assert (await recv(ws))["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "ping"}))
        assert (await recv(ws))["type"] == "pong"
        query = "mutation($w: ID!) { createChat(websiteId: $w) { id websiteId } }"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": {"w": tenant.website_id}},
                }
            )
        )
        result = await recv(ws)
        assert result["type"] == "next" and result["id"] == "1"
        assert result["payload"]["data"]["createChat"]["websiteId"] == tenant.website_id
        assert (await recv(ws)) == {"id": "1", "type": "complete"}

        await ws.send(
            json.dumps(
                {"id": "2", "type": "subscribe", "payload": {"query": "{ websites { id } }"}}
            )
        )
        result = await recv(ws)
        assert result["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_bad_tokens_are_refused_at_connection_init(api: Api, protocol: str) -> None:
    async with websockets.connect(api.ws_url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"authorization": "Bearer forged.token.x"}}
            )
        )
        if protocol == "graphql-transport-ws":
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            # 4401, which the reference client does not retry, and the code in the reason
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
            assert closed.value.rcvd.reason.startswith("UNAUTHENTICATED: ")
        else:
            message = await recv(ws)
            assert message["type"] == "connection_error"
            assert message["payload"]["code"] == "UNAUTHENTICATED"


async def test_visitor_sockets_from_foreign_origins_are_refused(api: Api, tenant: Any) -> None:
    session = await visitor_session(api, tenant.website_id)
    async with websockets.connect(
        api.ws_url,
        subprotocols=["graphql-ws"],
        origin="https://evil.example",  # type: ignore[list-item]
    ) as ws:
        await ws.send(
            json.dumps(
                {
                    "type": "connection_init",
                    "payload": {"authorization": f"Bearer {session['token']}"},
                }
            )
        )
        message = await recv(ws)
        assert message == {
            "type": "connection_error",
            "payload": {
                "message": "This origin is not allowed for the website.",
                "code": "FORBIDDEN",
                "requestId": message["payload"]["requestId"],
            },
        }


async def test_legacy_graphql_ws_runs_subscriptions(api: Api) -> None:
    """The legacy protocol carries subscriptions (Strawberry serves only those on it)."""
    async with websockets.connect(api.ws_url, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {owner_token()}"}}
            )
        )
        assert (await recv(ws))["type"] == "connection_ack"
        query = 'subscription { documentStatus(documentId: "00000000-0000-0000-0000-000000000000") { id } }'
        await ws.send(json.dumps({"id": "7", "type": "start", "payload": {"query": query}}))
        message = await recv(ws)
        assert message["id"] == "7"
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_subscriptions_report_errors_with_codes(api: Api, tenant: Any) -> None:
    """chatStream is not served by this version yet: it says so with a code."""
    async with websockets.connect(api.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await recv(ws))["type"] == "connection_ack"
        query = 'subscription { chatStream(chatId: "00000000-0000-0000-0000-000000000000", message: "hi") { __typename } }'
        await ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": {"query": query}}))
        message = await recv(ws)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_compression_is_negotiated_only_when_enabled(api: Api, start_api: Any) -> None:
    """Browsers and the websockets client offer permessage-deflate; askbase declines it
    unless WS_COMPRESSION is set (a zlib state per connection for little gain)."""
    async with websockets.connect(api.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
    async with (
        start_api(WS_COMPRESSION=True) as compressed,
        websockets.connect(compressed.ws_url, subprotocols=["graphql-transport-ws"]) as ws,  # type: ignore[list-item]
    ):
        assert "permessage-deflate" in ws.response.headers["Sec-WebSocket-Extensions"]


async def _subscribe_once(ws: Any, op: str, query: str, variables: dict[str, Any]) -> Any:
    """Send one operation; its first answer (a result or an error)."""
    await ws.send(
        json.dumps(
            {"id": op, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
    )
    while True:
        message = await recv(ws)
        if message.get("id") == op and message["type"] in ("next", "error"):
            return message


async def test_a_websocket_checks_its_token_and_origin_again_at_every_operation(
    api: Api, tenant: Any
) -> None:
    """A socket is not trusted for its whole life on its first check: a visitor token
    that expires, or an origin the owner removes, stops the next operation on it."""
    import asyncio
    import time
    import uuid

    import jwt

    from askbase.app.auth.tokens import ISSUER, TOKEN_LEEWAY_SECONDS, VISITOR_AUDIENCE

    create = "mutation($w: ID!) { createChat(websiteId: $w) { id } }"
    variables = {"w": tenant.website_id}
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "role": "anon",
        "website_id": tenant.website_id,
        "aud": VISITOR_AUDIENCE,
        "iss": ISSUER,
        "iat": now - 60,
        "exp": now - TOKEN_LEEWAY_SECONDS + 2,  # valid for two more seconds
    }
    expiring = jwt.encode(claims, api.state.keys.visitor_secret, algorithm="HS256")
    async with websockets.connect(
        api.ws_url,
        subprotocols=["graphql-transport-ws"],
        origin=ORIGIN,  # type: ignore[list-item]
    ) as ws:
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {expiring}"}}
            )
        )
        assert (await recv(ws))["type"] == "connection_ack"
        first = await _subscribe_once(ws, "1", create, variables)
        assert first["type"] == "next" and "errors" not in first["payload"], first
        await asyncio.sleep(3)
        second = await _subscribe_once(ws, "2", create, variables)
        assert second["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    session = await visitor_session(api, tenant.website_id)
    async with websockets.connect(
        api.ws_url,
        subprotocols=["graphql-transport-ws"],
        origin=ORIGIN,  # type: ignore[list-item]
    ) as ws:
        await ws.send(
            json.dumps(
                {
                    "type": "connection_init",
                    "payload": {"authorization": f"Bearer {session['token']}"},
                }
            )
        )
        assert (await recv(ws))["type"] == "connection_ack"
        first = await _subscribe_once(ws, "1", create, variables)
        assert first["type"] == "next" and "errors" not in first["payload"], first
        await api.data(
            "mutation($w: ID!, $i: UpdateWebsiteInput!) { updateWebsite(id: $w, input: $i) { id } }",
            {"w": tenant.website_id, "i": {"allowedOrigins": ["https://elsewhere.example"]}},
            token=tenant.owner,
        )
        await asyncio.sleep(1.2)
        second = await _subscribe_once(ws, "2", create, variables)
        assert second["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_bad_operation_ends_that_operation_only(api: Api, tenant: Any) -> None:
    """A syntax error (or a validation error) in one subscribe is answered with an `error`
    for its id, with a code and the request id; the socket and the other live operations
    on it go on (the widget runs several on one socket)."""
    from tests.chat.test_chat_stream import REFUNDS, STREAM
    from tests.knowledge.test_search import add_text

    await add_text(api, tenant, "refunds.md", REFUNDS)
    session = await visitor_session(api, tenant.website_id)
    chat = await api.data(
        "mutation($w: ID!) { createChat(websiteId: $w) { id } }",
        {"w": tenant.website_id},
        token=session["token"],
        origin=ORIGIN,
    )
    async with websockets.connect(
        api.ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        origin=ORIGIN,  # type: ignore[arg-type]
    ) as ws:
        await ws.send(
            json.dumps(
                {
                    "type": "connection_init",
                    "payload": {"authorization": f"Bearer {session['token']}"},
                }
            )
        )
        assert (await recv(ws))["type"] == "connection_ack"
        variables = {"c": chat["createChat"]["id"], "m": "How long do refunds take?"}
        live = {"query": STREAM, "variables": variables}
        await ws.send(json.dumps({"id": "live", "type": "subscribe", "payload": live}))
        for op, query in (
            ("bad", "subscription { chatStream("),
            ("invalid", "subscription { nope }"),
        ):
            await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": {"query": query}}))
        seen: dict[str, list[Any]] = {}
        while "complete" not in [m["type"] for m in seen.get("live", [])]:
            message = await recv(ws)
            seen.setdefault(message["id"], []).append(message)
        for op, code in (("bad", "GRAPHQL_PARSE_FAILED"), ("invalid", "GRAPHQL_VALIDATION_FAILED")):
            (error,) = seen[op]
            assert error["type"] == "error"
            assert error["payload"][0]["extensions"]["code"] == code
            assert error["payload"][0]["extensions"]["requestId"]
        kinds = [m["payload"]["data"]["chatStream"]["__typename"] for m in seen["live"][:-1]]
        assert kinds[0] == "SourcesFound" and kinds[-1] == "MessageDone"
