"""Websites: owners manage their own; visitors see the public part only."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.conftest import CREATE_WEBSITE, ORIGIN, Api, owner_token, visitor_session

SETTINGS = """
query($id: ID!) {
  website(id: $id) {
    id domain name
    settings { title welcomeMessage suggestedQuestions theme systemPrompt model temperature allowedOrigins }
  }
}"""
UPDATE = """
mutation($id: ID!, $input: UpdateWebsiteInput!) {
  updateWebsite(id: $id, input: $input) {
    name settings { title welcomeMessage suggestedQuestions theme systemPrompt model temperature allowedOrigins }
  }
}"""


async def test_owner_creates_updates_and_deletes_a_website(api: Api) -> None:
    token = owner_token()
    created = (
        await api.data(
            CREATE_WEBSITE,
            {
                "input": {
                    "domain": "Docs.Example.COM",
                    "name": "Docs",
                    "allowedOrigins": ["https://docs.example.com/"],
                }
            },
            token=token,
        )
    )["createWebsite"]
    assert created["domain"] == "docs.example.com"
    assert created["settings"] == {"title": "Docs", "allowedOrigins": ["https://docs.example.com"]}

    updated = (
        await api.data(
            UPDATE,
            {
                "id": created["id"],
                "input": {
                    "systemPrompt": "Be brief.",
                    "model": "gpt-4o-mini",
                    "temperature": 0.2,
                    "welcomeMessage": "Hi!",
                    "suggestedQuestions": ["How do I start?"],
                    "theme": {"primary": "#0a7"},
                },
            },
            token=token,
        )
    )["updateWebsite"]
    assert updated["settings"] == {
        "title": "Docs",
        "welcomeMessage": "Hi!",
        "suggestedQuestions": ["How do I start?"],
        "theme": {"primary": "#0a7"},
        "systemPrompt": "Be brief.",
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "allowedOrigins": ["https://docs.example.com"],
    }
    # A later partial update keeps what it does not name; null resets a field to its default.
    again = (
        await api.data(
            UPDATE,
            {"id": created["id"], "input": {"title": "Help", "welcomeMessage": None}},
            token=token,
        )
    )["updateWebsite"]["settings"]
    assert again["title"] == "Help" and again["welcomeMessage"] is None
    assert again["theme"] == {"primary": "#0a7"} and again["systemPrompt"] == "Be brief."

    listed = (await api.data("{ websites { id } }", token=token))["websites"]
    assert [w["id"] for w in listed] == [created["id"]]
    assert (
        await api.data(
            "mutation($id: ID!) { deleteWebsite(id: $id) }", {"id": created["id"]}, token=token
        )
    ) == {"deleteWebsite": True}
    assert (await api.data(SETTINGS, {"id": created["id"]}, token=token)) == {"website": None}


async def test_visitors_see_public_settings_only(api: Api, tenant: Any) -> None:
    await api.data(
        UPDATE,
        {
            "id": tenant.website_id,
            "input": {"systemPrompt": "secret prompt", "welcomeMessage": "Welcome"},
        },
        token=tenant.owner,
    )
    session = await visitor_session(api, tenant.website_id)
    settings = (
        await api.data(SETTINGS, {"id": tenant.website_id}, token=session["token"], origin=ORIGIN)
    )["website"]["settings"]
    assert settings["welcomeMessage"] == "Welcome"
    assert settings["systemPrompt"] is None and settings["allowedOrigins"] is None
    assert settings["model"] is None and settings["temperature"] is None
    for field in ("chats", "documents"):
        error = await api.error(
            "query($id: ID!) { website(id: $id) { %s { nodes { id } } } }" % field,
            {"id": tenant.website_id},
            token=session["token"],
            origin=ORIGIN,
        )
        assert error["extensions"]["code"] == "FORBIDDEN"


async def test_owners_cannot_see_or_change_other_owners_websites(
    api: Api, tenant_factory: Any
) -> None:
    mine = await tenant_factory()
    theirs = await tenant_factory()
    assert (await api.data(SETTINGS, {"id": theirs.website_id}, token=mine.owner)) == {
        "website": None
    }
    for query, variables in (
        (UPDATE, {"id": theirs.website_id, "input": {"name": "mine now"}}),
        ("mutation($id: ID!) { deleteWebsite(id: $id) }", {"id": theirs.website_id}),
        ("query($id: ID!) { chats(websiteId: $id) { nodes { id } } }", {"id": theirs.website_id}),
    ):
        error = await api.error(query, variables, token=mine.owner)
        assert error["extensions"]["code"] == "NOT_FOUND"
    still = (await api.data(SETTINGS, {"id": theirs.website_id}, token=theirs.owner))["website"]
    assert still["name"] != "mine now"


async def test_bad_website_input_is_refused_and_nothing_is_written(
    api: Api, admin: asyncpg.Connection
) -> None:
    owner_id = __import__("uuid").uuid4()
    token = owner_token(owner_id)
    bad_inputs = [
        {"domain": "https://example.com/path"},
        {"domain": ""},
        {"domain": "x" * 300},
        {"domain": "ok.example", "allowedOrigins": ["javascript:alert(1)"]},
        {"domain": "ok.example", "name": "n" * 500},
        {"domain": "ok.example", "systemPrompt": "p" * 9000},
        {"domain": "ok.example", "name": "nul\u0000byte"},
    ]
    for data in bad_inputs:
        error = await api.error(CREATE_WEBSITE, {"input": data}, token=token)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", data
    assert await admin.fetchval("select count(*) from websites where owner_id = $1", owner_id) == 0

    site = (await api.data(CREATE_WEBSITE, {"input": {"domain": "ok.example"}}, token=token))[
        "createWebsite"
    ]
    duplicate = await api.error(CREATE_WEBSITE, {"input": {"domain": "ok.example"}}, token=token)
    assert duplicate["extensions"]["code"] == "BAD_USER_INPUT"
    for update in (
        {"temperature": 3.5},
        {"name": "  "},
        {"theme": {"primary": "x" * 5000}},
        {"suggestedQuestions": ["q"] * 11},
        {"theme": [1, 2]},
    ):
        error = await api.error(UPDATE, {"id": site["id"], "input": update}, token=token)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", update
    row = await admin.fetchrow(
        "select name, temperature, settings from websites where id = $1::uuid", site["id"]
    )
    assert row["name"] == "ok.example" and row["temperature"] is None


async def test_malformed_ids_are_bad_user_input(api: Api) -> None:
    token = owner_token()
    for query in (
        '{ website(id: "not-a-uuid") { id } }',
        '{ chat(id: "42") { id } }',
        '{ messages(chatId: "zzz") { nodes { id } } }',
        'mutation { deleteWebsite(id: "1; drop table websites") }',
    ):
        error = await api.error(query, token=token)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", query


async def test_owners_pick_models_only_from_the_operators_list(start_api: Any) -> None:
    """Each answer is billed to the operator's key: a website's model must be LLM_MODEL or
    one of LLM_ALLOWED_MODELS."""
    from tests.conftest import CREATE_WEBSITE, owner_token

    async with start_api(LLM_MODEL="small-model", LLM_ALLOWED_MODELS="big-model") as api:
        token = owner_token()
        site = (
            await api.data(CREATE_WEBSITE, {"input": {"domain": "models.example"}}, token=token)
        )["createWebsite"]["id"]
        update = (
            "mutation($w: ID!, $m: String) { updateWebsite(id: $w, input: {model: $m}) { id } }"
        )
        for allowed in ("small-model", "big-model"):
            assert await api.data(update, {"w": site, "m": allowed}, token=token)
        error = await api.error(update, {"w": site, "m": "most-expensive-model"}, token=token)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["field"] == "model" and "big-model" in error["message"]
