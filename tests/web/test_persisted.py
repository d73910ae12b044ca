"""Persisted operations: Apollo's automatic persisted queries (hash-only requests, the
PERSISTED_QUERY_NOT_FOUND round trip, an LRU with a cap), trusted documents from a
manifest as graphql-codegen's client preset writes it, and websites that accept only
trusted documents from their visitors, over HTTP and WebSockets."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import websockets

from askbase.app.core.settings import ConfigError, load_settings
from askbase.app.web.widget import widget_operations
from tests.conftest import ORIGIN, Api, Tenant, visitor_session
from tests.web.test_sockets import TRANSPORT, init, recv

HEALTH = "query Health { health { ok } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apq(query: str | None, digest: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest or sha(query or "")}}
    }
    if query is not None:
        body["query"] = query
    return body


def code_of(response: Any) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


async def test_apollo_apq_round_trip(api: Api) -> None:
    query = f"query Probe{uuid.uuid4().hex[:8]} {{ health {{ ok }} }}"
    digest = sha(query)
    # Hash only, never seen: Apollo's link then sends the document with its hash.
    missing = await api.http.post("/graphql", json=apq(None, digest))
    assert missing.status_code == 200
    error = missing.json()["errors"][0]
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert error["extensions"]["requestId"] == missing.headers["x-request-id"]
    # As application/graphql-response+json, a request error is a 400.
    strict = await api.http.post(
        "/graphql", json=apq(None, digest), headers={"accept": "application/graphql-response+json"}
    )
    assert strict.status_code == 400 and code_of(strict) == "PERSISTED_QUERY_NOT_FOUND"

    registered = await api.http.post("/graphql", json=apq(query))
    assert registered.json() == {"data": {"health": {"ok": True}}}
    again = await api.http.post("/graphql", json=apq(None, digest))
    assert again.json() == {"data": {"health": {"ok": True}}}
    # Apollo sends hashed queries as GET too.
    params = {"extensions": json.dumps(apq(None, digest)["extensions"])}
    by_get = await api.http.get("/graphql", params=params)
    assert by_get.json() == {"data": {"health": {"ok": True}}}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (apq("{ health { ok } }", sha("something else")), "BAD_USER_INPUT"),
        (
            {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha("x")}}},
            "PERSISTED_QUERY_NOT_SUPPORTED",
        ),
        ({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}, "BAD_USER_INPUT"),
        ({"extensions": {"persistedQuery": "yes"}}, "BAD_USER_INPUT"),
        ({"documentId": "sha256:" + sha("never seen")}, "PERSISTED_QUERY_NOT_FOUND"),
        ({"documentId": "md5:abc"}, "BAD_USER_INPUT"),
    ],
)
async def test_bad_persisted_requests_are_refused_with_a_code(
    api: Api, body: dict[str, Any], code: str
) -> None:
    response = await api.http.post("/graphql", json=body)
    assert response.status_code in (200, 400)
    assert code_of(response) == code
    assert "data" not in response.json() or response.json()["data"] is None


async def test_the_apq_cache_is_an_lru_with_a_cap(start_api: Any) -> None:
    queries = [f"query Q{n} {{ health {{ ok }} }}" for n in range(3)]
    async with start_api(APQ_CACHE_SIZE=2) as api:
        for query in queries:
            assert "errors" not in (await api.http.post("/graphql", json=apq(query))).json()
        # The first was evicted; the later two are kept.
        assert code_of(await api.http.post("/graphql", json=apq(None, sha(queries[0])))) == (
            "PERSISTED_QUERY_NOT_FOUND"
        )
        for query in queries[1:]:
            assert (
                "errors" not in (await api.http.post("/graphql", json=apq(None, sha(query)))).json()
            )
    async with start_api(APQ_CACHE_SIZE=0) as api:
        off = await api.http.post("/graphql", json=apq(None, sha(HEALTH)))
        assert code_of(off) == "PERSISTED_QUERY_NOT_SUPPORTED"  # Apollo falls back to full
        full = await api.http.post("/graphql", json=apq(HEALTH))
        assert full.json() == {"data": {"health": {"ok": True}}}


def write_manifest(folder: Path, documents: list[str]) -> Path:
    path = folder / "persisted-documents.json"
    path.write_text(json.dumps({sha(d): d for d in documents}))
    return path


async def test_trusted_documents_run_by_their_id(start_api: Any, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, [HEALTH])
    async with start_api(TRUSTED_DOCUMENTS=str(manifest)) as api:
        for body in (
            {"documentId": "sha256:" + sha(HEALTH)},
            {"documentId": sha(HEALTH)},
            apq(None, sha(HEALTH)),
        ):
            response = await api.http.post("/graphql", json=body)
            assert response.json() == {"data": {"health": {"ok": True}}}, body
        mismatch = await api.http.post(
            "/graphql", json={"documentId": sha(HEALTH), "query": "{ health { ok } }"}
        )
        assert code_of(mismatch) == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        (json.dumps({"abc": "{ health { ok } }"}), "not a SHA-256"),
        (json.dumps({sha("x"): "{ health { ok } }"}), "not the SHA-256 of its document"),
        (json.dumps({sha("x"): 5}), "not a string"),
    ],
)
def test_a_manifest_that_is_not_valid_stops_the_start(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(ConfigError) as refused:
        load_settings(env_file=None, TRUSTED_DOCUMENTS=str(path))
    assert "TRUSTED_DOCUMENTS" in str(refused.value) and problem in str(refused.value)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(env_file=None, TRUSTED_DOCUMENTS=str(tmp_path / "missing.json"))


UPDATE = """mutation($id: ID!, $on: Boolean) {
  updateWebsite(id: $id, input: {trustedDocumentsOnly: $on}) { settings { trustedDocumentsOnly } }
}"""


async def _trusted_only(api: Api, tenant: Tenant, on: bool | None) -> bool:
    data = await api.data(UPDATE, {"id": tenant.website_id, "on": on}, token=tenant.owner)
    flag: bool = data["updateWebsite"]["settings"]["trustedDocumentsOnly"]
    return flag


async def test_a_trusted_only_website_runs_only_trusted_documents_for_visitors(
    api: Api, tenant: Tenant, admin: asyncpg.Connection
) -> None:
    assert await _trusted_only(api, tenant, True) is True
    session = await visitor_session(api, tenant.website_id)  # the widget's own mutation
    headers = {"authorization": f"Bearer {session['token']}", "origin": ORIGIN}
    ops = widget_operations(api.state.settings.widget_dir)

    # The widget's documents run, in full or by their hash.
    made = await api.http.post(
        "/graphql",
        json={"query": ops["chat"], "variables": {"w": tenant.website_id}},
        headers=headers,
    )
    assert "errors" not in made.json(), made.text
    by_hash = {**apq(None, sha(ops["chat"])), "variables": {"w": tenant.website_id}}
    assert "errors" not in (await api.http.post("/graphql", json=by_hash, headers=headers)).json()

    # Anything else is refused before it runs: no chat is created.
    count = "select count(*) from public.chats where website_id = $1"
    before = await admin.fetchval(count, uuid.UUID(tenant.website_id))
    other = 'mutation($w: ID!) { createChat(websiteId: $w, title: "x") { id } }'
    for body in (
        {"query": other, "variables": {"w": tenant.website_id}},
        {**apq(other), "variables": {"w": tenant.website_id}},  # nor registered
    ):
        refused = await api.http.post("/graphql", json=body, headers=headers)
        assert code_of(refused) == "FORBIDDEN", refused.text
    unknown = await api.http.post("/graphql", json=apq(None, sha(other)), headers=headers)
    assert code_of(unknown) == "PERSISTED_QUERY_NOT_FOUND"
    assert await admin.fetchval(count, uuid.UUID(tenant.website_id)) == before

    # The owner is never restricted.
    owner = await api.http.post(
        "/graphql",
        json={"query": other, "variables": {"w": tenant.website_id}},
        headers={"authorization": f"Bearer {tenant.owner}"},
    )
    assert "errors" not in owner.json(), owner.text

    # Over a WebSocket: the untrusted document gets an error for its id, the socket lives.
    async with websockets.connect(
        api.ws_url,
        subprotocols=[TRANSPORT],
        origin=ORIGIN,  # type: ignore[list-item,arg-type]
    ) as ws:
        await init(ws, session["token"])
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": HEALTH}}))
        error = await recv(ws)
        assert error["type"] == "error" and error["id"] == "1"
        assert error["payload"][0]["extensions"]["code"] == "FORBIDDEN"
        assert error["payload"][0]["extensions"]["requestId"]
        trusted = {"query": ops["website"], "variables": {"w": tenant.website_id}}
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": trusted}))
        result = await recv(ws)
        assert result["type"] == "next" and "errors" not in result["payload"], result


async def test_apq_over_websockets(api: Api) -> None:
    query = f"query Ws{uuid.uuid4().hex[:8]} {{ health {{ ok }} }}"
    async with websockets.connect(api.ws_url, subprotocols=[TRANSPORT]) as ws:  # type: ignore[list-item]
        await init(ws)
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": apq(None, sha(query))})
        )
        missing = await recv(ws)
        assert missing["type"] == "error"
        assert missing["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": apq(query)}))
        assert (await recv(ws))["payload"] == {"data": {"health": {"ok": True}}}
        assert (await recv(ws))["type"] == "complete"
        await ws.send(
            json.dumps({"id": "3", "type": "subscribe", "payload": apq(None, sha(query))})
        )
        assert (await recv(ws))["payload"] == {"data": {"health": {"ok": True}}}


async def test_trusted_only_is_off_by_default_and_null_resets_it(api: Api, tenant: Tenant) -> None:
    query = "query($id: ID!) { website(id: $id) { settings { trustedDocumentsOnly } } }"
    session = await visitor_session(api, tenant.website_id)
    seen = await api.data(query, {"id": tenant.website_id}, token=session["token"], origin=ORIGIN)
    assert seen["website"]["settings"]["trustedDocumentsOnly"] is False
    assert await _trusted_only(api, tenant, True) is True
    assert await _trusted_only(api, tenant, None) is False
    # Off again: a visitor may send any document.
    other = await api.gql(HEALTH, token=session["token"], origin=ORIGIN)
    assert other == {"data": {"health": {"ok": True}}}
