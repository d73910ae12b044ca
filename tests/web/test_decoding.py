"""Hostile HTTP input (bodies, GET parameters, multipart parts) meets one strict decoder:
each case is a 400 with a GraphQL-shaped error whose code is BAD_USER_INPUT, never a 500
or an INTERNAL, and nothing is stored. Validation cost is bounded before validation."""

from __future__ import annotations

import json
import random
import string
import time
from typing import Any

import pytest

from tests.conftest import Api, owner_token

HEALTH = "{ health { ok } }"


def nested(levels: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


def refused(response: Any, status: int = 400, code: str = "BAD_USER_INPUT") -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/"), response.headers
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == code, error
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    message: str = error["message"]
    return message


BODIES = {
    "a string": b'"hello"',
    "null": b"null",
    "a number": b"42",
    "true": b"true",
    "invalid UTF-8": b'{"query": "{ health { ok } }", "variables": {"x": "\xff\xfe"}}',
    "UTF-16": json.dumps({"query": HEALTH}).encode("utf-16"),
    "a 5,000-digit integer": b'{"query": "{ health { ok } }", "variables": {"n": '
    + b"9" * 5000
    + b"}}",
    "a number out of range": b'{"query": "{ health { ok } }", "variables": {"n": 1e999}}',
    "NaN": b'{"query": "{ health { ok } }", "variables": {"n": NaN}}',
    "nested 5,000 levels": b'{"query": "{ health { ok } }", "variables": {"x": '
    + b"[" * 5000
    + b"]" * 5000
    + b"}}",
    "nested 40 levels": json.dumps({"query": HEALTH, "variables": {"x": nested(40)}}).encode(),
    "a lone surrogate": b'{"query": "{ health { ok } }", "variables": {"x": "\\ud800"}}',
    "a numeric query": b'{"query": 5}',
    "a null query": b'{"query": null}',
    "a list of variables": b'{"query": "{ health { ok } }", "variables": [1]}',
    "a numeric operationName": b'{"query": "{ health { ok } }", "operationName": 5}',
    "extensions as a string": b'{"query": "{ health { ok } }", "extensions": "x"}',
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
async def test_malformed_bodies_are_bad_user_input(api: Api, body: bytes) -> None:
    response = await api.http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    refused(response)
    assert (await api.http.get("/health")).status_code == 200


async def test_a_deeply_nested_theme_is_bad_user_input_and_nothing_is_stored(api: Api) -> None:
    owner = owner_token()
    website = (
        await api.data(
            'mutation { createWebsite(input: {domain: "deep-theme.example"}) { id } }',
            token=owner,
        )
    )["createWebsite"]["id"]
    update = (
        "mutation($w: ID!, $t: JSON) { updateWebsite(id: $w, input: {theme: $t}) "
        "{ settings { theme } } }"
    )
    response = await api.http.post(
        "/graphql",
        json={"query": update, "variables": {"w": website, "t": nested(900)}},
        headers={"authorization": f"Bearer {owner}"},
    )
    assert "nested more than" in refused(response)
    # Within the JSON limits, the theme's own rule refuses it (validated without recursion).
    error = await api.error(update, {"w": website, "t": nested(20)}, token=owner)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    theme = await api.data(
        "query($w: ID!) { website(id: $w) { settings { theme } } }", {"w": website}, token=owner
    )
    assert theme["website"]["settings"]["theme"] == {}


def test_nested_values_are_validated_without_recursion() -> None:
    from askbase.app.core.errors import BadUserInput
    from askbase.app.core.validation import WebsiteUpdate, validated

    for theme in (nested(5000), nested(5000, leaf="NUL \x00")):
        with pytest.raises(BadUserInput):
            validated(WebsiteUpdate, {"theme": theme})


@pytest.mark.parametrize(
    "params",
    [
        {"query": HEALTH, "variables": "[" * 5000},
        {"query": HEALTH, "variables": "{not json"},
        {"query": HEALTH, "variables": "[1]"},
        {"query": HEALTH, "extensions": '"x"'},
        {"query": HEALTH, "variables": json.dumps(nested(40))},
        {"variables": "{}"},
    ],
)
async def test_malformed_get_parameters_are_bad_user_input(
    api: Api, params: dict[str, str]
) -> None:
    refused(await api.http.get("/graphql", params=params, headers={"accept": "application/json"}))


async def test_a_get_mutation_is_405_for_the_graphql_response_type(api: Api) -> None:
    """GraphQL over HTTP: a mutation over GET is 405 Method Not Allowed; plain
    application/json clients keep the 400 they always had."""
    mutation = {"query": 'mutation { deleteChat(id: "x") }'}
    accept = {"accept": "application/graphql-response+json"}
    response = await api.http.get("/graphql", params=mutation, headers=accept)
    refused(response, 405)
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    refused(await api.http.get("/graphql", params=mutation))


UPLOAD = 'mutation($f: Upload!) { uploadDocument(websiteId: "x", file: $f) { id } }'
OPERATIONS = json.dumps({"query": UPLOAD, "variables": {"f": None}})
FILE = {"0": ("notes.txt", b"hello", "text/plain")}

MULTIPARTS = {
    "map is a list": ({"operations": OPERATIONS, "map": '["variables.f"]'}, FILE),
    "map points into a string": (
        {"operations": OPERATIONS, "map": '{"0": ["query.x"]}'},
        FILE,
    ),
    "map points past a list": (
        {
            "operations": json.dumps({"query": UPLOAD, "variables": {"f": [None]}}),
            "map": '{"0": ["variables.f.7"]}',
        },
        FILE,
    ),
    "map paths are not strings": ({"operations": OPERATIONS, "map": '{"0": [5]}'}, FILE),
    "map names a missing file": ({"operations": OPERATIONS, "map": '{"9": ["variables.f"]}'}, FILE),
    "map names a form field": (
        {"operations": OPERATIONS, "map": '{"operations": ["variables.f"]}'},
        FILE,
    ),
    "operations is a string": ({"operations": '"hello"', "map": '{"0": ["variables.f"]}'}, FILE),
    "operations nested 5,000 levels": (
        {"operations": "[" * 5000 + "]" * 5000, "map": "{}"},
        FILE,
    ),
    "operations is a file": (
        {"map": '{"0": ["variables.f"]}'},
        {**FILE, "operations": ("o.json", OPERATIONS.encode(), "application/json")},
    ),
    "no map": ({"operations": OPERATIONS}, FILE),
}


@pytest.mark.parametrize(
    ("fields", "files"), list(MULTIPARTS.values()), ids=list(MULTIPARTS.keys())
)
async def test_malformed_multipart_requests_are_bad_user_input(
    api: Api, fields: dict[str, str], files: dict[str, Any]
) -> None:
    response = await api.http.post(
        "/graphql/upload",
        data=fields,
        files=files,
        headers={"authorization": f"Bearer {owner_token()}"},
    )
    refused(response)


async def test_an_unparsable_multipart_body_is_bad_user_input(api: Api) -> None:
    response = await api.http.post(
        "/graphql/upload",
        content=b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n",
        headers={"content-type": "multipart/form-data"},  # no boundary
    )
    refused(response)


def hostile_query() -> str:
    """The attack that cost a second of the event loop: ~480 fields repeated under one
    random alias (5 KB, within the token limit, never in the validation cache)."""
    alias = "".join(random.choices(string.ascii_lowercase, k=6))
    return "{ health { " + f"{alias}: ok " * 480 + "} }"


async def test_repeated_fields_are_refused_before_validation(api: Api) -> None:
    from askbase.schema.build import build_schema

    schema = build_schema()
    await schema.execute(hostile_query())  # warm
    started = time.perf_counter()
    result = await schema.execute(hostile_query())
    elapsed = time.perf_counter() - started
    assert result.errors and "fields once its fragments are expanded" in result.errors[0].message
    assert elapsed < 0.05, f"{elapsed * 1000:.0f} ms"

    error = await api.error("{ health { " + "ok " * 22 + "} }")
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "at most 20 are allowed" in error["message"]
    error = await api.error(
        "{ health { ...A } } fragment A on Health { ...B ...B } fragment B on Health "
        "{ ...C ...C } fragment C on Health { ...D ...D } fragment D on Health { ...E ...E } "
        "fragment E on Health { ...F ...F } fragment F on Health { ...G ...G } "
        "fragment G on Health { ...H ...H } fragment H on Health { ...I ...I } "
        "fragment I on Health { ok version database }"
    )
    assert "769 fields once its fragments are expanded" in error["message"], error


async def test_real_operations_are_within_the_cost_limits() -> None:
    """The widget's operations and introspection pass the selection limits."""
    from graphql import get_introspection_query, parse

    from askbase.app.core.settings import Settings
    from askbase.schema.build import selection_cost
    from tests.chat.test_chat_stream import STREAM

    defaults = Settings.model_fields
    limit = (defaults["max_selections"].default, defaults["max_duplicate_fields"].default)
    for query in (get_introspection_query(descriptions=True), STREAM):
        fields, repeats = selection_cost(parse(query))
        assert fields <= limit[0] and repeats <= limit[1], (fields, repeats)


@pytest.mark.parametrize("query", ["{}", "\ufeff{}", "{ health {} }", "query A {}"])
async def test_empty_selection_sets_do_not_parse(api: Api, query: str) -> None:
    """The spec's grammar has no empty selection set; graphql-core accepted one, and a
    validation rule then crashed (the client saw `max() arg is an empty sequence`)."""
    error = await api.error(query)
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED", error
    response = await api.http.get("/graphql", params={"query": query})
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


@pytest.mark.logs_errors("unexpected error before execution")
async def test_an_error_that_escapes_the_extensions_is_masked() -> None:
    from graphql import GraphQLError

    from askbase.schema.errors import _escaped

    try:
        raise ValueError("max() arg is an empty sequence")
    except ValueError as crash:
        escaped = GraphQLError(str(crash), original_error=crash)
    masked = _escaped(escaped).formatted
    assert masked["message"] == "Internal server error"
    assert masked["extensions"]["code"] == "INTERNAL"
