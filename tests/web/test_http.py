"""Malformed HTTP requests get GraphQL-shaped errors with codes; bodies have limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import Api


def coded(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == code
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'[{"query": "{ health { ok } }"}]', "application/json"),
        (b"{}", "application/json"),
        (b'{"query": 5}', "application/json"),
        (b'{"query": "{ health { ok } }", "variables": [1]}', "application/json"),
        (b'{"query": "{ health { ok } }"}', "text/plain"),
    ],
)
async def test_malformed_requests_are_bad_user_input(
    api: Api, body: bytes, content_type: str
) -> None:
    response = await api.http.post("/graphql", content=body, headers={"content-type": content_type})
    coded(response, 400, "BAD_USER_INPUT")


async def test_mutations_over_get_are_refused(api: Api) -> None:
    response = await api.http.get("/graphql", params={"query": 'mutation { deleteChat(id: "x") }'})
    coded(response, 400, "BAD_USER_INPUT")
    response = await api.http.get("/graphql", params={"query": "{ health { ok } }"})
    assert response.json() == {"data": {"health": {"ok": True}}}


async def test_subscriptions_need_a_streaming_transport(api: Api) -> None:
    query = 'subscription { chatStream(chatId: "x", message: "y") { __typename } }'
    response = await api.http.post(
        "/graphql", json={"query": query}, headers={"accept": "application/json"}
    )
    coded(response, 406, "BAD_USER_INPUT")  # JSON cannot carry a stream


async def test_unknown_operation_names(api: Api) -> None:
    response = await api.http.post(
        "/graphql", json={"query": "query A { health { ok } }", "operationName": "B"}
    )
    coded(response, 400, "GRAPHQL_VALIDATION_FAILED")


async def test_oversized_bodies_are_refused(api: Api) -> None:
    limit = api.state.settings.max_request_bytes
    padding = "a" * (limit + 1)
    response = await api.http.post(
        "/graphql", json={"query": "{ health { ok } }", "variables": {"x": padding}}
    )
    coded(response, 413, "PAYLOAD_TOO_LARGE")

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ health { ok } }", "variables": {"x": "'
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536
        yield b'"}}'

    response = await api.http.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    coded(response, 413, "PAYLOAD_TOO_LARGE")
    # The server is fine afterwards.
    assert (await api.http.get("/health")).status_code == 200


async def test_graphiql_only_in_development(api: Api, start_api: Any) -> None:
    html = {"accept": "text/html"}
    response = await api.http.get("/graphql", headers=html)
    assert response.status_code == 200 and "graphiql" in response.text.lower()
    async with start_api(ENVIRONMENT="production") as prod:
        response = await prod.http.get("/graphql", headers=html)
        assert "graphiql" not in response.text.lower()
        assert response.status_code in (400, 404)
        # Introspection is off in production (schema.graphql is committed for codegen).
        error = await prod.error("{ __schema { queryType { name } } }")
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert await prod.data("{ health { ok } }") == {"health": {"ok": True}}


async def test_the_graphql_response_media_type_when_asked_for(api: Api) -> None:
    """GraphQL over HTTP: with Accept: application/graphql-response+json, a request that
    fails before execution is a 400 without `data`; results keep status 200."""
    accept = {"accept": "application/graphql-response+json, application/json"}
    ok = await api.http.post("/graphql", json={"query": "{ health { ok } }"}, headers=accept)
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("application/graphql-response+json")
    assert ok.json() == {"data": {"health": {"ok": True}}}
    for query, code in (
        ("{ health { ok }", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
    ):
        bad = await api.http.post("/graphql", json={"query": query}, headers=accept)
        assert bad.status_code == 400 and "data" not in bad.json()
        assert bad.json()["errors"][0]["extensions"]["code"] == code
    plain = await api.http.post("/graphql", json={"query": "{ nope }"})
    assert plain.status_code == 200 and plain.headers["content-type"] == "application/json"
