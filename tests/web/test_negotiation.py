"""Content negotiation over HTTP by the rules of HTTP: q-values and order respected, `q=0`
never, JSON for queries and mutations, a stream only for subscriptions, 406 otherwise; and
event streams that clients' default parsers read (LF line ends)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from askbase.app.web.negotiation import (
    GRAPHQL_RESPONSE,
    JSON,
    MULTIPART,
    SSE,
    choose,
    negotiate,
    parse_accept,
)
from tests.chat.test_chat_stream import REFUNDS, STREAM
from tests.conftest import ORIGIN, Api, Tenant, visitor_session
from tests.knowledge.test_search import add_text

# What urql sends by default with every request (its fetch exchange).
URQL = (
    "application/graphql-response+json, application/graphql+json, application/json, "
    "text/event-stream, multipart/mixed"
)
# Apollo Client's HttpLink: for queries, and for subscriptions over HTTP.
APOLLO = "application/graphql-response+json,application/json;q=0.9"
APOLLO_SUBSCRIPTION = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json'
STREAMS = (SSE, MULTIPART)
QUERY = "{ health { ok } }"
SUBSCRIPTION = "subscription S { documentStatus(documentId: $d) { id } }"


@pytest.mark.parametrize(
    ("accept", "query", "expected"),
    [
        (None, QUERY, (JSON, False)),
        ("", QUERY, (JSON, False)),
        ("*/*", QUERY, (JSON, False)),
        ("application/*", QUERY, (JSON, False)),
        (URQL, QUERY, (GRAPHQL_RESPONSE, False)),
        (URQL, SUBSCRIPTION, (SSE, True)),
        (APOLLO, QUERY, (GRAPHQL_RESPONSE, False)),
        (APOLLO_SUBSCRIPTION, SUBSCRIPTION, (MULTIPART, True)),
        (APOLLO_SUBSCRIPTION, QUERY, (JSON, False)),
        ("application/json, application/graphql-response+json", QUERY, (JSON, False)),
        (
            "application/json;q=0.5, application/graphql-response+json",
            QUERY,
            (GRAPHQL_RESPONSE, False),
        ),
        ("application/graphql-response+json;q=0, */*", QUERY, (JSON, False)),
        ("application/json;q=0, application/graphql-response+json;q=0, */*", QUERY, (SSE, True)),
        ("text/event-stream", QUERY, (SSE, True)),  # graphql-sse carries single results too
        ("text/event-stream;q=0, application/json", SUBSCRIPTION, (JSON, False)),
        ("text/event-stream, */*;q=0", SUBSCRIPTION, (SSE, True)),
        ("multipart/mixed", SUBSCRIPTION, (None, False)),  # only subscriptionSpec=1.0 is spoken
        ("text/html", QUERY, (None, False)),
        ("application/xml, text/plain", QUERY, (None, False)),
    ],
)
def test_negotiation_follows_http(
    accept: str | None, query: str, expected: tuple[str | None, bool]
) -> None:
    choice = negotiate(accept, query, None, streams=STREAMS)
    assert (choice.media_type, choice.stream) == expected


def test_the_most_specific_range_sets_the_quality() -> None:
    ranges = parse_accept("text/*;q=0.1, text/event-stream;q=0.9, */*;q=0.5")
    assert choose(ranges, (JSON, SSE)) == SSE
    ranges = parse_accept("*/*, application/json;q=0")
    assert choose(ranges, (JSON, GRAPHQL_RESPONSE)) == GRAPHQL_RESPONSE
    assert choose(parse_accept("application/json;q=zero"), (JSON,)) is None


def test_a_named_operation_decides_in_a_document_with_several() -> None:
    document = "query Q { health { ok } } subscription S { documentStatus(documentId: 1) { id } }"
    assert negotiate(URQL, document, "Q", streams=STREAMS).media_type == GRAPHQL_RESPONSE
    assert negotiate(URQL, document, "S", streams=STREAMS).media_type == SSE
    # Unparsable or ambiguous: JSON, where execution reports the error.
    assert negotiate(URQL, "subscription {", None, streams=STREAMS).media_type == GRAPHQL_RESPONSE
    assert negotiate(URQL, document, None, streams=STREAMS).media_type == GRAPHQL_RESPONSE


async def test_urqls_default_accept_gets_json_for_queries_and_errors(api: Api) -> None:
    response = await api.http.post("/graphql", json={"query": QUERY}, headers={"accept": URQL})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"health": {"ok": True}}}

    bad = await api.http.post("/graphql", json={"query": "{ nope }"}, headers={"accept": URQL})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert bad.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_q_zero_is_never_and_nothing_acceptable_is_406(api: Api) -> None:
    accept = "application/graphql-response+json;q=0, application/json"
    response = await api.http.post("/graphql", json={"query": QUERY}, headers={"accept": accept})
    assert response.headers["content-type"].startswith("application/json")

    for accept in ("text/html", "application/json;q=0, application/graphql-response+json;q=0"):
        refused = await api.http.post("/graphql", json={"query": QUERY}, headers={"accept": accept})
        assert refused.status_code == 406, refused.text
        error = refused.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["requestId"] == refused.headers["x-request-id"]


def _sse_events(text: str) -> list[tuple[str, Any]]:
    """Events as urql's parser reads them: blocks split on LF LF, lines on LF."""
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
        if "event" in fields:
            data = fields.get("data") or None
            events.append((fields["event"], json.loads(data) if data else None))
    return events


async def _chat(api: Api, tenant: Tenant) -> tuple[dict[str, str], str]:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    session = await visitor_session(api, tenant.website_id)
    headers = {"authorization": f"Bearer {session['token']}", "origin": ORIGIN}
    created = await api.data(
        "mutation($w: ID!) { createChat(websiteId: $w) { id } }",
        {"w": tenant.website_id},
        headers=headers,
    )
    return headers, created["createChat"]["id"]


async def test_a_subscription_streams_as_sse_with_lf_line_ends(api: Api, tenant: Tenant) -> None:
    headers, chat = await _chat(api, tenant)
    body = {"query": STREAM, "variables": {"c": chat, "m": "How long do refunds take?"}}
    async with api.http.stream(
        "POST", "/graphql", json=body, headers={**headers, "accept": URQL}
    ) as response:
        text = (await response.aread()).decode()
        assert response.headers["content-type"].startswith(SSE), text
    assert "\r" not in text
    events = _sse_events(text)
    assert events[-1] == ("complete", None)
    kinds = [payload["data"]["chatStream"]["__typename"] for _, payload in events[:-1]]
    assert kinds[0] == "SourcesFound" and kinds[-1] == "MessageDone"


async def test_a_subscription_streams_as_apollo_multipart(api: Api, tenant: Tenant) -> None:
    headers, chat = await _chat(api, tenant)
    body = {"query": STREAM, "variables": {"c": chat, "m": "How long do refunds take?"}}
    async with api.http.stream(
        "POST", "/graphql", json=body, headers={**headers, "accept": APOLLO_SUBSCRIPTION}
    ) as response:
        assert response.headers["content-type"].startswith("multipart/mixed")
        assert "subscriptionSpec=1.0" in response.headers["content-type"]
        text = (await response.aread()).decode()
    parts = [p.split("\r\n\r\n", 1)[1] for p in text.split("--graphql") if "\r\n\r\n" in p]
    payloads = [json.loads(p.strip()).get("payload") for p in parts]
    kinds = [p["data"]["chatStream"]["__typename"] for p in payloads if p]
    assert kinds[0] == "SourcesFound" and kinds[-1] == "MessageDone"
