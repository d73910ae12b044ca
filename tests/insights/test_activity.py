"""Activity per hour or day counts exactly what was done, for the website's owner only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from tests.chat.test_chat_stream import REFUNDS, new_chat
from tests.conftest import ORIGIN, Api, Tenant, visitor_session
from tests.insights.test_feedback import RATE, ask
from tests.knowledge.test_search import add_text

ACTIVITY = """
query($w: ID!, $from: DateTime!, $to: DateTime!, $bucket: Bucket) {
  activity(websiteId: $w, from: $from, to: $to, bucket: $bucket) {
    at chats questions answered unanswered ratedUp ratedDown totalTokens
  }
}"""
COUNTS = ("chats", "questions", "answered", "unanswered", "ratedUp", "ratedDown", "totalTokens")


def window(days: int = 3) -> dict[str, str]:
    """From yesterday's midnight (UTC), so that a test run across midnight still fits."""
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=1)
    return {"from": start.isoformat(), "to": (start + timedelta(days=days)).isoformat()}


async def activity(api: Api, tenant: Tenant, **variables: Any) -> list[dict[str, Any]]:
    data = await api.data(ACTIVITY, {"w": tenant.website_id, **variables}, token=tenant.owner)
    points: list[dict[str, Any]] = data["activity"]
    return points


def totals(points: list[dict[str, Any]]) -> dict[str, int]:
    return {name: sum(p[name] for p in points) for name in COUNTS}


async def test_activity_counts_what_was_done(
    api: Api, tenant: Tenant, admin: asyncpg.Connection
) -> None:
    await add_text(api, tenant, "refunds.md", REFUNDS)
    token = (await visitor_session(api, tenant.website_id))["token"]
    first_chat = await new_chat(api, token, tenant.website_id)
    refunds = await ask(api, token, first_chat, "How long do refunds take?")
    gift_cards = await ask(api, token, first_chat, "Can gift cards be refunded?")
    second_chat = await new_chat(api, tenant.owner, tenant.website_id)
    await ask(api, tenant.owner, second_chat, "Which volcano erupted in 1815?")
    await api.data(RATE, {"m": refunds["id"], "r": "UP"}, token=token, origin=ORIGIN)
    await api.data(RATE, {"m": gift_cards["id"], "r": "DOWN"}, token=token, origin=ORIGIN)
    tokens = await admin.fetchval(
        "select sum((usage->>'totalTokens')::int) from public.messages where website_id = $1",
        uuid.UUID(tenant.website_id),
    )
    days = await activity(api, tenant, **window())
    assert [datetime.fromisoformat(d["at"]) for d in days] == [
        datetime.fromisoformat(window()["from"]) + timedelta(days=n) for n in range(3)
    ]
    expected = {
        "chats": 2,
        "questions": 3,
        "answered": 2,
        "unanswered": 1,
        "ratedUp": 1,
        "ratedDown": 1,
        "totalTokens": tokens,
    }
    assert totals(days) == expected and tokens > 0
    hours = await activity(api, tenant, bucket="HOUR", **window())
    assert len(hours) == 72 and totals(hours) == expected
    assert 1 <= sum(1 for h in hours if h["questions"]) <= 2  # this hour (or the last)
    week = await activity(api, tenant, **window(7))
    assert len(week) == 7 and totals(week) == expected and totals(week[3:])["chats"] == 0


async def test_activity_is_the_owners_alone(api: Api, tenant: Tenant, tenant_factory: Any) -> None:
    visitor = (await visitor_session(api, tenant.website_id))["token"]
    other: Tenant = await tenant_factory()
    variables = {"w": tenant.website_id, **window()}
    error = await api.error(ACTIVITY, variables, token=visitor, origin=ORIGIN)
    assert error["extensions"]["code"] == "FORBIDDEN"
    error = await api.error(ACTIVITY, variables, token=other.owner)
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_bad_ranges_are_refused(api: Api, tenant: Tenant) -> None:
    now = datetime.now(UTC)
    for start, end in (
        (now, now - timedelta(hours=1)),
        (now, now),
        (now - timedelta(days=401), now),
    ):
        variables = {"w": tenant.website_id, "from": start.isoformat(), "to": end.isoformat()}
        error = await api.error(ACTIVITY, variables, token=tenant.owner)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
    year = await activity(
        api, tenant, **{"from": (now - timedelta(days=400)).isoformat(), "to": now.isoformat()}
    )
    assert len(year) in (400, 401) and totals(year)["questions"] == 0


SET_ZONE = """mutation($w: ID!, $z: String) {
  updateWebsite(id: $w, input: {timeZone: $z}) { settings { timeZone } }
}"""


async def test_days_are_the_websites_days_in_its_time_zone(
    api: Api, tenant: Tenant, admin: asyncpg.Connection
) -> None:
    """A question asked at 23:30 UTC belongs to the next day in Berlin (UTC+1 in winter);
    the day buckets start at midnight there. An unknown zone is refused; null is UTC."""
    assert (
        await api.data(SET_ZONE, {"w": tenant.website_id, "z": "Europe/Berlin"}, token=tenant.owner)
    )["updateWebsite"]["settings"]["timeZone"] == "Europe/Berlin"
    website = uuid.UUID(tenant.website_id)
    await admin.execute(
        "insert into public.activity_hourly (website_id, at, questions)"
        " values ($1, '2026-01-15 23:00+00', 1)",
        website,
    )
    berlin = {"from": "2026-01-15T00:00:00+01:00", "to": "2026-01-17T00:00:00+01:00"}
    days = await activity(api, tenant, bucket="DAY", **berlin)
    assert [(d["at"], d["questions"]) for d in days] == [
        ("2026-01-14T23:00:00+00:00", 0),
        ("2026-01-15T23:00:00+00:00", 1),
    ]
    bad = await api.error(
        SET_ZONE, {"w": tenant.website_id, "z": "Mars/Olympus"}, token=tenant.owner
    )
    assert bad["extensions"]["code"] == "BAD_USER_INPUT"
    assert bad["extensions"]["field"] == "timeZone"
    reset = await api.data(SET_ZONE, {"w": tenant.website_id, "z": None}, token=tenant.owner)
    assert reset["updateWebsite"]["settings"]["timeZone"] == "UTC"
    utc = await activity(
        api, tenant, bucket="DAY", **{"from": "2026-01-15T00:00:00Z", "to": "2026-01-17T00:00:00Z"}
    )
    assert [d["questions"] for d in utc] == [1, 0]
