"""Chats and messages: visitors see only their own, owners see their websites' chats."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from tests.conftest import ADD_MESSAGE, CREATE_CHAT, ORIGIN, Api, visitor_session

CHAT = """
query($id: ID!, $first: Int, $after: String) {
  chat(id: $id) { id title messages(first: $first, after: $after) {
    nodes { id role content status sources { title } usage { totalTokens } createdAt }
    pageInfo { hasNextPage endCursor } } }
}"""
MESSAGES = """
query($id: ID!, $first: Int, $after: String) {
  messages(chatId: $id, first: $first, after: $after) {
    nodes { content } pageInfo { hasNextPage endCursor } }
}"""
CHATS = """
query($w: ID!, $first: Int, $after: String) {
  chats(websiteId: $w, first: $first, after: $after) {
    nodes { id title } pageInfo { hasNextPage endCursor } }
}"""


async def new_chat(api: Api, website_id: str, token: str, title: str | None = None) -> str:
    data = await api.data(CREATE_CHAT, {"w": website_id, "t": title}, token=token, origin=ORIGIN)
    chat_id: str = data["createChat"]["id"]
    return chat_id


async def test_a_visitor_chats_and_reads_the_history_back(api: Api, tenant: Any) -> None:
    session = await visitor_session(api, tenant.website_id)
    token = session["token"]
    chat_id = await new_chat(api, tenant.website_id, token, "Shipping")
    for text in ("first", "second", "third"):
        message = (
            await api.data(
                ADD_MESSAGE, {"c": chat_id, "m": f"  {text}  "}, token=token, origin=ORIGIN
            )
        )["addMessage"]
        assert message["role"] == "USER" and message["status"] == "COMPLETE"
        assert message["content"] == text
    chat = (await api.data(CHAT, {"id": chat_id}, token=token, origin=ORIGIN))["chat"]
    assert chat["title"] == "Shipping"
    nodes = chat["messages"]["nodes"]
    assert [m["content"] for m in nodes] == ["first", "second", "third"]
    assert nodes[0]["sources"] == [] and nodes[0]["usage"] is None


async def test_pagination_walks_every_message_once_in_order(api: Api, tenant: Any) -> None:
    session = await visitor_session(api, tenant.website_id)
    token = session["token"]
    chat_id = await new_chat(api, tenant.website_id, token)
    for i in range(7):
        await api.data(ADD_MESSAGE, {"c": chat_id, "m": f"m{i}"}, token=token, origin=ORIGIN)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (
            await api.data(
                MESSAGES, {"id": chat_id, "first": 3, "after": after}, token=token, origin=ORIGIN
            )
        )["messages"]
        seen += [n["content"] for n in page["nodes"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"m{i}" for i in range(7)]
    assert pages == 3


async def test_owner_lists_chats_newest_first_across_pages(api: Api, tenant: Any) -> None:
    session = await visitor_session(api, tenant.website_id)
    made = [await new_chat(api, tenant.website_id, session["token"], f"c{i}") for i in range(5)]
    first = (await api.data(CHATS, {"w": tenant.website_id, "first": 2}, token=tenant.owner))[
        "chats"
    ]
    rest = (
        await api.data(
            CHATS,
            {"w": tenant.website_id, "first": 10, "after": first["pageInfo"]["endCursor"]},
            token=tenant.owner,
        )
    )["chats"]
    assert [c["id"] for c in first["nodes"] + rest["nodes"]] == list(reversed(made))
    assert first["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]


async def test_visitors_never_see_each_others_chats(api: Api, tenant: Any) -> None:
    alice = (await visitor_session(api, tenant.website_id))["token"]
    bob = (await visitor_session(api, tenant.website_id))["token"]
    alices_chat = await new_chat(api, tenant.website_id, alice)
    await api.data(ADD_MESSAGE, {"c": alices_chat, "m": "private"}, token=alice, origin=ORIGIN)

    assert (await api.data(CHAT, {"id": alices_chat}, token=bob, origin=ORIGIN)) == {"chat": None}
    bobs_list = (await api.data(CHATS, {"w": tenant.website_id}, token=bob, origin=ORIGIN))[
        "chats"
    ]["nodes"]
    assert bobs_list == []
    for query, variables in (
        (MESSAGES, {"id": alices_chat}),
        (ADD_MESSAGE, {"c": alices_chat, "m": "intrusion"}),
        ("mutation($id: ID!) { deleteChat(id: $id) }", {"id": alices_chat}),
    ):
        error = await api.error(query, variables, token=bob, origin=ORIGIN)
        assert error["extensions"]["code"] == "NOT_FOUND"
    mine = (await api.data(MESSAGES, {"id": alices_chat}, token=alice, origin=ORIGIN))["messages"][
        "nodes"
    ]
    assert [m["content"] for m in mine] == ["private"]


async def test_bad_message_input_writes_nothing(
    api: Api, tenant: Any, admin: asyncpg.Connection
) -> None:
    token = (await visitor_session(api, tenant.website_id))["token"]
    chat_id = await new_chat(api, tenant.website_id, token)
    for content in ("x" * 8001, "   ", "nul \u0000 byte"):
        error = await api.error(
            ADD_MESSAGE, {"c": chat_id, "m": content}, token=token, origin=ORIGIN
        )
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
    error = await api.error(
        ADD_MESSAGE, {"c": str(uuid.uuid4()), "m": "hi"}, token=token, origin=ORIGIN
    )
    assert error["extensions"]["code"] == "NOT_FOUND"
    error = await api.error(
        CREATE_CHAT, {"w": tenant.website_id, "t": "t" * 201}, token=token, origin=ORIGIN
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert (
        await admin.fetchval("select count(*) from messages where chat_id = $1::uuid", chat_id) == 0
    )


async def test_bad_paging_arguments(api: Api, tenant: Any) -> None:
    for variables in ({"first": 0}, {"first": 101}, {"after": "garbage!"}, {"after": "YWJj"}):
        error = await api.error(CHATS, {"w": tenant.website_id, **variables}, token=tenant.owner)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", variables


async def test_deleting_a_chat_removes_its_messages(
    api: Api, tenant: Any, admin: asyncpg.Connection
) -> None:
    token = (await visitor_session(api, tenant.website_id))["token"]
    chat_id = await new_chat(api, tenant.website_id, token)
    await api.data(ADD_MESSAGE, {"c": chat_id, "m": "bye"}, token=token, origin=ORIGIN)
    assert await api.data(
        "mutation($id: ID!) { deleteChat(id: $id) }", {"id": chat_id}, token=token, origin=ORIGIN
    ) == {"deleteChat": True}
    assert (
        await admin.fetchval("select count(*) from messages where chat_id = $1::uuid", chat_id) == 0
    )


async def test_nested_connections_cost_the_same_queries_for_more_chats(
    api: Api, tenant_factory: Any
) -> None:
    """Dataloaders batch Chat.messages: the transaction count does not grow with chats."""
    query = "{ websites { id chats(first: 50) { nodes { id messages(first: 5) { nodes { content } } } } } }"

    async def cost(chats: int) -> int:
        site = await tenant_factory()
        token = (await visitor_session(api, site.website_id))["token"]
        for _ in range(chats):
            chat_id = await new_chat(api, site.website_id, token)
            await api.data(ADD_MESSAGE, {"c": chat_id, "m": "hello"}, token=token, origin=ORIGIN)
        before = api.state.db.transactions
        data = await api.data(query, token=site.owner)
        assert len(data["websites"][0]["chats"]["nodes"]) == chats
        return api.state.db.transactions - before

    assert await cost(2) == await cost(12)
