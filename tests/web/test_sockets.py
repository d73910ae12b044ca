"""Both WebSocket protocols under one set of rules: every frame checked (4400 on
graphql-transport-ws, `connection_error`/`error` on the legacy graphql-ws, never an
abnormal close), an init timeout, one connection_init, a cap on operations per socket and
on sockets per client address, and keep-alive tasks that end with their socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.conftest import Api, Tenant, owner_token, running_api

TRANSPORT, LEGACY = "graphql-transport-ws", "graphql-ws"
HEALTH = "{ health { ok } }"


async def recv(ws: Any, within: float = 5) -> dict[str, Any]:
    """The next protocol message, skipping the legacy protocol's keep-alives."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), within))
        if message.get("type") != "ka":
            return message


async def close_code(ws: Any, within: float = 5) -> int:
    """How the server closed the socket (1006: abnormally, without a close frame)."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), within)
    return closed.value.rcvd.code if closed.value.rcvd is not None else 1006


def connect(url: str, protocol: str) -> Any:
    return websockets.connect(url, subprotocols=[protocol])  # type: ignore[list-item]


async def init(ws: Any, token: str | None = None) -> None:
    payload = {"authorization": f"Bearer {token}"} if token else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    assert (await recv(ws))["type"] == "connection_ack"


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def subscribe(protocol: str, op_id: Any = "1", payload: Any = None) -> str:
    kind = "subscribe" if protocol == TRANSPORT else "start"
    payload = {"query": HEALTH} if payload is None else payload
    return json.dumps({"type": kind, "id": op_id, "payload": payload})


BAD_FRAMES = {
    "a list": "[1,2]",
    "a number": "5",
    "a string": '"str"',
    "null": "null",
    "no type": "{}",
    "a numeric type": '{"type": 5}',
    "an unknown type": '{"type": "subscribe-all"}',
    "not JSON": "{not json",
    "nested 5,000 levels": deep(5000),
    "nested 40 levels": json.dumps({"type": "ping", "payload": {"x": json.loads(deep(40))}}),
    "a 5,000-digit number": '{"type": "ping", "payload": {"n": ' + "9" * 5000 + "}}",
    "a lone surrogate": '{"type": "ping", "payload": {"x": "\\udc00"}}',
    "a string payload": "{protocol}:x",
    "an object id": "{protocol}:{}",
    "a numeric id": "{protocol}:5",
    "an empty id": '{protocol}:""',
    "a numeric query": "{protocol}:q5",
    "a list of variables": "{protocol}:v",
    "a string ping payload": '{"type": "ping", "payload": "x"}',
}


def frame(template: str, protocol: str) -> str:
    """Frames that differ per protocol are written `{protocol}:<what is wrong>`."""
    if not template.startswith("{protocol}:"):
        return template
    wrong = template.removeprefix("{protocol}:")
    if wrong == "x":
        return subscribe(protocol, payload="x")
    if wrong == "q5":
        return subscribe(protocol, payload={"query": 5})
    if wrong == "v":
        return subscribe(protocol, payload={"query": HEALTH, "variables": [1]})
    return subscribe(protocol, op_id=json.loads(wrong))


@pytest.mark.parametrize("template", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
async def test_bad_frames_close_graphql_transport_ws_with_4400(api: Api, template: str) -> None:
    async with connect(api.ws_url, TRANSPORT) as ws:
        await init(ws)
        await ws.send(frame(template, TRANSPORT))
        assert await close_code(ws) == 4400


@pytest.mark.parametrize("template", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
async def test_bad_frames_are_answered_on_legacy_graphql_ws(api: Api, template: str) -> None:
    async with connect(api.ws_url, LEGACY) as ws:
        await init(ws, owner_token())
        await ws.send(frame(template, LEGACY))
        answer = await recv(ws)
        assert answer["type"] in ("connection_error", "error"), answer
        payload = answer["payload"]
        code = payload.get("code") or payload.get("extensions", {}).get("code")
        assert code == "BAD_USER_INPUT", answer
        # The socket goes on: the next operation runs.
        query = 'subscription { documentStatus(documentId: "not-an-id") { id } }'
        await ws.send(subscribe(LEGACY, "ok", {"query": query}))
        answer = await recv(ws)
        assert answer["id"] == "ok", answer


async def test_bad_connection_init_payloads(api: Api) -> None:
    async with connect(api.ws_url, TRANSPORT) as ws:
        await ws.send('{"type": "connection_init", "payload": "x"}')
        assert await close_code(ws) == 4400
    async with connect(api.ws_url, LEGACY) as ws:
        await ws.send('{"type": "connection_init", "payload": [1]}')
        assert (await recv(ws))["type"] == "connection_error"
    for protocol in (TRANSPORT, LEGACY):  # the protocols allow a null payload
        async with connect(api.ws_url, protocol) as ws:
            await ws.send('{"type": "connection_init", "payload": null}')
            assert (await recv(ws))["type"] == "connection_ack"


def keep_alives() -> int:
    return sum(
        "handle_keep_alive" in getattr(task.get_coro(), "__qualname__", "")
        for task in asyncio.all_tasks()
    )


async def test_one_connection_init_per_socket(api: Api) -> None:
    before = keep_alives()
    async with connect(api.ws_url, TRANSPORT) as ws:
        await init(ws)
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert await close_code(ws) == 4429
    async with connect(api.ws_url, LEGACY) as ws:
        await init(ws)
        assert keep_alives() == before + 1
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await recv(ws))["type"] == "connection_error"
        assert await close_code(ws) == 4429
    for _ in range(50):  # the keep-alive ends with its socket
        if keep_alives() == before:
            break
        await asyncio.sleep(0.02)
    assert keep_alives() == before


@pytest.fixture(scope="module")
async def strict(pg_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    """An instance with tight socket limits."""
    async with running_api(
        pg_dsn,
        tmp_path_factory.mktemp("strict"),
        WS_INIT_TIMEOUT_SECONDS=0.5,
        WS_MAX_OPERATIONS=1,
        WS_MAX_CONNECTIONS_PER_IP=3,
    ) as running:
        yield running


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_sockets_that_never_send_connection_init_are_closed(
    strict: Api, protocol: str
) -> None:
    async with connect(strict.ws_url, protocol) as ws:
        assert await close_code(ws, within=3) == 4408


async def pending_document(admin: asyncpg.Connection, website_id: str) -> str:
    """A document that stays PENDING (no job): its status subscription stays open."""
    document_id = await admin.fetchval(
        "insert into public.documents (website_id, filename, content_type, size_bytes) "
        "values ($1, 'waiting.txt', 'text/plain', 1) returning id",
        uuid.UUID(website_id),
    )
    return str(document_id)


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_operations_per_socket_are_capped(
    strict: Api, tenant: Tenant, admin: asyncpg.Connection, protocol: str
) -> None:
    document_id = await pending_document(admin, tenant.website_id)
    watch = {
        "query": f'subscription {{ documentStatus(documentId: "{document_id}") {{ status }} }}'
    }
    async with connect(strict.ws_url, protocol) as ws:
        await init(ws, tenant.owner)
        await ws.send(subscribe(protocol, "1", watch))
        first = await recv(ws)
        assert first["id"] == "1" and first["type"] in ("next", "data"), first
        await ws.send(subscribe(protocol, "2", watch))
        refused = await recv(ws)
        assert refused["type"] == "error" and refused["id"] == "2", refused
        error = refused["payload"][0] if protocol == TRANSPORT else refused["payload"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", refused
        stop = "complete" if protocol == TRANSPORT else "stop"
        await ws.send(json.dumps({"type": stop, "id": "1"}))
        await asyncio.sleep(0.1)
        await ws.send(subscribe(protocol, "3", watch))
        while (again := await recv(ws))["id"] != "3":
            pass
        assert again["type"] in ("next", "data"), again


async def test_sockets_per_client_address_are_capped(strict: Api) -> None:
    async with (
        connect(strict.ws_url, TRANSPORT) as first,
        connect(strict.ws_url, LEGACY) as second,
        connect(strict.ws_url, TRANSPORT) as third,
    ):
        for ws in (first, second, third):
            await init(ws)
        async with connect(strict.ws_url, TRANSPORT) as fourth:
            assert await close_code(fourth) == 1013
        await third.close()
    for _ in range(50):  # the server counts the socket closed once its handler returns
        async with connect(strict.ws_url, LEGACY) as again:
            with contextlib.suppress(ConnectionClosed):
                await init(again)
                return
        await asyncio.sleep(0.02)
    raise AssertionError("a closed socket still counts against its address")


def test_close_reasons_fit_a_close_frame() -> None:
    from askbase.app.web.sockets import _close_reason

    assert len(_close_reason("é" * 200).encode()) <= 123


async def test_a_refused_socket_closes_with_4401_on_both_protocols(api: Api) -> None:
    """Not 1011 on the legacy protocol (that code says the server failed), nor 4403, which
    the reference graphql-ws client retries five times before it reports anything."""
    forged = json.dumps(
        {"type": "connection_init", "payload": {"authorization": "Bearer forged.token.x"}}
    )
    for protocol in (TRANSPORT, LEGACY):
        async with connect(api.ws_url, protocol) as ws:
            await ws.send(forged)
            if protocol == LEGACY:
                error = await recv(ws)
                assert error["type"] == "connection_error"
                assert error["payload"]["code"] == "UNAUTHENTICATED"
                assert error["payload"]["requestId"]
            assert await close_code(ws) == 4401
