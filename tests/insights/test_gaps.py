"""Knowledge gaps from real chats with the extractive answerer: wordings of one missing
topic form one gap, different topics stay apart, answered questions are not gaps, a
thumbs-down makes one, and only the website's owner sees them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from tests.chat.test_chat_stream import REFUNDS, new_chat
from tests.conftest import ORIGIN, Api, Tenant, visitor_session
from tests.database.test_supabase import reached
from tests.insights.test_feedback import RATE, answered_chat, ask, visitor_claims
from tests.knowledge.test_search import add_text

GAPS = """
query($w: ID!, $from: DateTime, $to: DateTime, $first: Int, $all: Boolean) {
  knowledgeGaps(websiteId: $w, from: $from, to: $to, first: $first, includeResolved: $all) {
    id question examples count reasons firstAskedAt lastAskedAt resolved
  }
}"""
RESOLVE = "mutation($id: ID!) { resolveKnowledgeGap(id: $id) { id count resolved } }"
SHIPPING = [
    "Do you ship to Canada?",
    "Can I get delivery to Canada?",
    "Do you deliver internationally to Canada?",
]
OPENING = ["What are your opening hours on Sunday?", "When is the store open on Sundays?"]


async def gaps(api: Api, tenant: Tenant, **variables: Any) -> list[dict[str, Any]]:
    data = await api.data(GAPS, {"w": tenant.website_id, **variables}, token=tenant.owner)
    found: list[dict[str, Any]] = data["knowledgeGaps"]
    return found


async def ask_all(api: Api, tenant: Tenant, questions: list[str]) -> str:
    token = (await visitor_session(api, tenant.website_id))["token"]
    chat_id = await new_chat(api, token, tenant.website_id)
    for question in questions:
        await ask(api, token, chat_id, question)
    return token


async def test_wordings_of_one_missing_topic_form_one_gap(api: Api, tenant: Tenant) -> None:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    before = datetime.now(UTC)
    await ask_all(api, tenant, [SHIPPING[0], OPENING[0], "How long do refunds take?"])
    await ask_all(api, tenant, [*SHIPPING[1:], OPENING[1]])
    found = await gaps(api, tenant)
    assert [g["count"] for g in found] == [3, 2]
    shipping, opening = found
    assert {shipping["question"], *shipping["examples"]} == set(SHIPPING)
    assert {opening["question"], *opening["examples"]} == set(OPENING)
    assert len(shipping["examples"]) == 2 and shipping["question"] not in shipping["examples"]
    for gap in found:
        assert gap["reasons"] == ["NO_SOURCES"] and gap["resolved"] is False
        first = datetime.fromisoformat(gap["firstAskedAt"])
        assert before <= first <= datetime.fromisoformat(gap["lastAskedAt"])
    assert await gaps(api, tenant, first=1) == [shipping]
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert await gaps(api, tenant, **{"from": later}) == []


async def test_a_thumbs_down_makes_a_gap_until_rated_up(api: Api, tenant: Tenant) -> None:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    question = "How long do refunds take?"
    token, _, message_id = await answered_chat(api, tenant, question)
    assert await gaps(api, tenant) == []
    await api.data(RATE, {"m": message_id, "r": "DOWN"}, token=token, origin=ORIGIN)
    (gap,) = await gaps(api, tenant)
    assert gap["question"] == question and gap["reasons"] == ["RATED_DOWN"]
    assert gap["count"] == 1 and gap["examples"] == []
    await api.data(RATE, {"m": message_id, "r": "UP"}, token=token, origin=ORIGIN)
    assert await gaps(api, tenant) == []


async def test_a_resolved_gap_is_hidden_until_it_is_asked_again(api: Api, tenant: Tenant) -> None:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    await ask_all(api, tenant, SHIPPING[:2])
    (gap,) = await gaps(api, tenant)
    resolved = (await api.data(RESOLVE, {"id": gap["id"]}, token=tenant.owner))[
        "resolveKnowledgeGap"
    ]
    assert resolved == {"id": gap["id"], "count": 2, "resolved": True}
    assert await gaps(api, tenant) == []
    (hidden,) = await gaps(api, tenant, all=True)
    assert hidden["id"] == gap["id"] and hidden["resolved"] is True
    await ask_all(api, tenant, SHIPPING[2:])
    (back,) = await gaps(api, tenant)
    assert back["id"] == gap["id"] and back["count"] == 3 and back["resolved"] is False


async def test_gaps_are_the_owners_alone(
    api: Api, tenant: Tenant, tenant_factory: Any, admin: asyncpg.Connection
) -> None:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    visitor = await ask_all(api, tenant, SHIPPING[:1])
    (gap,) = await gaps(api, tenant)
    other: Tenant = await tenant_factory()
    variables = {"w": tenant.website_id}
    error = await api.error(GAPS, variables, token=visitor, origin=ORIGIN)
    assert error["extensions"]["code"] == "FORBIDDEN"
    error = await api.error(GAPS, variables, token=other.owner)
    assert error["extensions"]["code"] == "NOT_FOUND"
    for token, code in ((visitor, "FORBIDDEN"), (other.owner, "NOT_FOUND")):
        error = await api.error(RESOLVE, {"id": gap["id"]}, token=token, origin=ORIGIN)
        assert error["extensions"]["code"] == code
    # At the database level: another owner reads nothing, a visitor has no privilege.
    gap_id = uuid.UUID(gap["id"])
    other_owner = {"sub": str(other.owner_id), "role": "authenticated"}
    owner = {"sub": str(tenant.owner_id), "role": "authenticated"}
    someone = visitor_claims(tenant.website_id, uuid.uuid4())
    for table, column in (("knowledge_gaps", "id"), ("knowledge_gap_questions", "gap_id")):
        read = f"select 1 from public.{table} where {column} = $1"
        assert await reached(admin, "authenticated", other_owner, read, gap_id) == 0
        assert await reached(admin, "anon", someone, read, gap_id) == 0
        assert await reached(admin, "authenticated", owner, read, gap_id) == 1


async def test_bad_gap_queries_are_refused(api: Api, tenant: Tenant) -> None:
    now = datetime.now(UTC)
    for variables in (
        {"first": 0},
        {"first": 101},
        {"from": now.isoformat(), "to": (now - timedelta(days=1)).isoformat()},
    ):
        error = await api.error(GAPS, {"w": tenant.website_id, **variables}, token=tenant.owner)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
    error = await api.error(RESOLVE, {"id": str(uuid.uuid4())}, token=tenant.owner)
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_an_answer_is_stored_even_when_its_gap_cannot_be(
    api: Api, tenant: Tenant, admin: asyncpg.Connection
) -> None:
    await admin.execute(
        """
        create or replace function public.test_refuse_gap() returns trigger
        language plpgsql as $$ begin raise exception 'no gaps today'; end $$
        """
    )
    await admin.execute(
        f"""
        create trigger test_refuse_gap before insert on public.knowledge_gaps for each row
        when (new.website_id = '{uuid.UUID(tenant.website_id)}')
        execute function public.test_refuse_gap()
        """
    )
    try:
        token = (await visitor_session(api, tenant.website_id))["token"]
        chat_id = await new_chat(api, token, tenant.website_id)
        answer = await ask(api, token, chat_id, SHIPPING[0])
    finally:
        await admin.execute("drop trigger test_refuse_gap on public.knowledge_gaps")
    assert answer["status"] == "COMPLETE" and answer["content"].startswith("I don't know")
    stored = await admin.fetchval(
        "select status from public.messages where id = $1", uuid.UUID(answer["id"])
    )
    assert stored == "complete" and await gaps(api, tenant) == []
