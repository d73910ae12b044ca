"""Depth, alias and token limits, and GraphQL-level errors, each with its contract code."""

from __future__ import annotations

from tests.conftest import Api, owner_token


async def test_too_deep_a_query_is_refused(api: Api) -> None:
    nested = "{ websites { chats { nodes { messages { nodes { id } } } } } }"
    assert "errors" not in await api.gql(nested, token=owner_token())
    # Repeat fragments to go past the depth limit of 10.
    deep = "{ websites { " + "chats { nodes { " * 6 + "id" + " } }" * 6 + " } }"
    error = await api.error(deep, token=owner_token())
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_too_many_aliases_are_refused(api: Api) -> None:
    query = "{ " + " ".join(f"a{i}: health {{ ok }}" for i in range(16)) + " }"
    error = await api.error(query)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_too_many_tokens_are_refused(api: Api) -> None:
    query = "{ health { " + "ok " * 2100 + "} }"
    error = await api.error(query)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_introspection_is_within_the_limits(api: Api) -> None:
    from graphql import get_introspection_query

    body = await api.gql(get_introspection_query(descriptions=True))
    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_parse_validation_and_variable_errors_have_codes(api: Api) -> None:
    assert (await api.error("{ health { ok }"))["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert (await api.error("{ nope }"))["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert (await api.error("{ chats { nodes { id } } }"))["extensions"][
        "code"
    ] == "GRAPHQL_VALIDATION_FAILED"
    error = await api.error(
        'query($n: Int) { chats(websiteId: "x", first: $n) { nodes { id } } }',
        {"n": "many"},
        token=owner_token(),
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_health_query(api: Api) -> None:
    data = await api.data("{ health { ok database version } }")
    assert data == {"health": {"ok": True, "database": True, "version": "0.1.0"}}


async def test_a_repeated_document_is_validated_once() -> None:
    """The limits' validation rules are made once per schema, so Strawberry's validation
    cache (keyed by the rules) hits for a document it has seen."""
    from strawberry.extensions.validation_cache import _get_validate_cache

    from askbase.schema.build import build_schema

    schema = build_schema()
    cache = _get_validate_cache(512)
    query = "{ __typename }"  # no resolver: this schema runs without the app's context
    await schema.execute(query)
    before = cache.cache_info()
    await schema.execute(query)
    after = cache.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (1, 0)
