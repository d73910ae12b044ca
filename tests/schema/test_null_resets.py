"""In an update input, an omitted field stays as it is and an explicit null resets the
field to its default, for every field the schema lets be null; input errors name fields
in camelCase, as the schema does."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg

from tests.conftest import CREATE_WEBSITE, Api, owner_token

FIELDS = (
    "name settings { title welcomeMessage suggestedQuestions theme systemPrompt model "
    "temperature allowedOrigins }"
)
UPDATE = (
    "mutation($id: ID!, $input: UpdateWebsiteInput!) "
    "{ updateWebsite(id: $id, input: $input) { %s } }" % FIELDS
)
EVERYTHING = {
    "name": "Help centre",
    "allowedOrigins": ["https://help.example"],
    "systemPrompt": "Be brief.",
    "model": "gpt-4o-mini",
    "temperature": 0.3,
    "title": "Ask us",
    "welcomeMessage": "Hi!",
    "suggestedQuestions": ["How do I start?"],
    "theme": {"primary": "#0a7"},
}
DEFAULTS = {
    "name": "help.example",
    "settings": {
        "title": "help.example",
        "welcomeMessage": None,
        "suggestedQuestions": [],
        "theme": {},
        "systemPrompt": None,
        "model": None,
        "temperature": None,
        "allowedOrigins": [],
    },
}


async def website(api: Api, token: str, domain: str) -> str:
    created = await api.data(CREATE_WEBSITE, {"input": {"domain": domain}}, token=token)
    website_id: str = created["createWebsite"]["id"]
    return website_id


async def update(api: Api, token: str, website_id: str, data: dict[str, Any]) -> Any:
    return (await api.data(UPDATE, {"id": website_id, "input": data}, token=token))["updateWebsite"]


async def test_null_resets_each_field_to_its_default_and_omitted_ones_stay(
    api: Api, admin: asyncpg.Connection
) -> None:
    token = owner_token()
    site = await website(api, token, "help.example")
    full = await update(api, token, site, EVERYTHING)
    assert full["name"] == "Help centre" and full["settings"]["title"] == "Ask us"

    for field in EVERYTHING:
        await update(api, token, site, EVERYTHING)
        after = await update(api, token, site, {field: None})
        expected = await update(api, token, site, {})  # an empty input changes nothing
        assert after == expected
        if field == "name":
            assert after["name"] == "help.example"
        elif field == "title":  # the title falls back to the name, which stayed
            assert after["settings"]["title"] == "Help centre"
        else:
            assert after["settings"][field] == DEFAULTS["settings"][field], field
        others = {k: v for k, v in EVERYTHING.items() if k not in (field, "name")}
        for other, value in others.items():
            assert after["settings"][other] == value, (field, other)

    everything_null = await update(api, token, site, dict.fromkeys(EVERYTHING))
    assert everything_null == DEFAULTS
    row = await admin.fetchrow(
        "select name, settings, allowed_origins, system_prompt, model, temperature "
        "from websites where id = $1::uuid",
        site,
    )
    assert {**row, "settings": json.loads(row["settings"])} == {
        "name": "help.example",
        "settings": {},
        "allowed_origins": [],
        "system_prompt": None,
        "model": None,
        "temperature": None,
    }


async def test_create_takes_null_as_the_default(api: Api) -> None:
    token = owner_token()
    nulls = {"domain": "nulls.example", "name": None, "allowedOrigins": None, "systemPrompt": None}
    created = (await api.data(CREATE_WEBSITE, {"input": nulls}, token=token))["createWebsite"]
    assert created["name"] == "nulls.example"
    assert created["settings"] == {"title": "nulls.example", "allowedOrigins": []}


async def test_input_errors_name_fields_as_the_schema_does(api: Api) -> None:
    token = owner_token(uuid.uuid4())
    bad_origin = {"domain": "camel.example", "allowedOrigins": ["https://ok.example", "ftp://x"]}
    error = await api.error(CREATE_WEBSITE, {"input": bad_origin}, token=token)
    assert error["extensions"]["field"] == "allowedOrigins"
    assert error["message"].startswith("Invalid `allowedOrigins`: 'ftp://x' is not an origin")
    site = await website(api, token, "camel.example")
    for data, field in (
        ({"suggestedQuestions": ["ok", ""]}, "suggestedQuestions[1]"),
        ({"welcomeMessage": "nul\u0000"}, "welcomeMessage"),
        ({"systemPrompt": "p" * 9000}, "systemPrompt"),
        ({"temperature": 3.5}, "temperature"),
        ({"theme": {"primary": ["#0a7"]}}, "theme"),
    ):
        error = await api.error(UPDATE, {"id": site, "input": data}, token=token)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", data
        assert error["extensions"]["field"] == field.partition("[")[0], error
        assert error["message"].startswith(f"Invalid `{field}`: "), error
