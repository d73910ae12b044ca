"""startSession and the origin check that guards every visitor call."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tests.conftest import CREATE_CHAT, ORIGIN, START_SESSION, Api, owner_token, visitor_session


async def test_a_session_from_an_allowed_origin(api: Api, tenant: Any) -> None:
    session = await visitor_session(api, tenant.website_id)
    assert session["website"]["id"] == tenant.website_id
    uuid.UUID(session["visitorId"])
    assert datetime.fromisoformat(session["expiresAt"]) > datetime.now().astimezone()


async def test_sessions_from_foreign_or_missing_origins_are_forbidden(
    api: Api, tenant: Any
) -> None:
    for origin in ("https://evil.example", "http://shop.example", None):
        error = await api.error(START_SESSION, {"id": tenant.website_id}, origin=origin)
        assert error["extensions"]["code"] == "FORBIDDEN", origin


async def test_a_wildcard_admits_server_side_callers(api: Api, tenant_factory: Any) -> None:
    site = await tenant_factory(origins=["*"])
    data = await api.data(START_SESSION, {"id": site.website_id})
    assert data["startSession"]["token"]


async def test_unknown_and_malformed_websites(api: Api) -> None:
    error = await api.error(START_SESSION, {"id": str(uuid.uuid4())}, origin=ORIGIN)
    assert error["extensions"]["code"] == "NOT_FOUND"
    error = await api.error(START_SESSION, {"id": "nope"}, origin=ORIGIN)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_every_visitor_call_checks_the_origin(api: Api, tenant: Any) -> None:
    session = await visitor_session(api, tenant.website_id)
    ok = await api.data(
        CREATE_CHAT, {"w": tenant.website_id}, token=session["token"], origin=ORIGIN
    )
    assert ok["createChat"]["websiteId"] == tenant.website_id
    for origin in ("https://evil.example", None):
        error = await api.error(
            CREATE_CHAT, {"w": tenant.website_id}, token=session["token"], origin=origin
        )
        assert error["extensions"]["code"] == "FORBIDDEN"


async def test_removing_an_origin_locks_out_its_sessions(api: Api, tenant: Any) -> None:
    session = await visitor_session(api, tenant.website_id)
    await api.data(
        'mutation($id: ID!) { updateWebsite(id: $id, input: {allowedOrigins: ["https://new.example"]}) { id } }',
        {"id": tenant.website_id},
        token=tenant.owner,
    )
    error = await api.error(
        CREATE_CHAT, {"w": tenant.website_id}, token=session["token"], origin=ORIGIN
    )
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_a_session_for_one_website_cannot_open_chats_on_another(
    api: Api, tenant_factory: Any
) -> None:
    site_a = await tenant_factory()
    site_b = await tenant_factory()
    session = await visitor_session(api, site_a.website_id)
    error = await api.error(
        CREATE_CHAT, {"w": site_b.website_id}, token=session["token"], origin=ORIGIN
    )
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_owners_may_also_start_sessions_with_their_token(api: Api, tenant: Any) -> None:
    data = await api.data(
        START_SESSION, {"id": tenant.website_id}, token=owner_token(), origin=ORIGIN
    )
    assert data["startSession"]["token"]


async def test_a_visitor_renews_their_session_and_keeps_their_chats(
    api: Api, tenant_factory: Any
) -> None:
    site = await tenant_factory()
    other = await tenant_factory()
    first = await visitor_session(api, site.website_id)
    chat = (
        await api.data(CREATE_CHAT, {"w": site.website_id}, token=first["token"], origin=ORIGIN)
    )["createChat"]
    renewed = (
        await api.data(START_SESSION, {"id": site.website_id}, token=first["token"], origin=ORIGIN)
    )["startSession"]
    assert renewed["visitorId"] == first["visitorId"]
    query = "query($c: ID!) { chat(id: $c) { id } }"
    seen = await api.data(query, {"c": chat["id"]}, token=renewed["token"], origin=ORIGIN)
    assert seen["chat"]["id"] == chat["id"]
    # A token of one website starts a new visitor on another.
    elsewhere = (
        await api.data(START_SESSION, {"id": other.website_id}, token=first["token"], origin=ORIGIN)
    )["startSession"]
    assert elsewhere["visitorId"] != first["visitorId"]
