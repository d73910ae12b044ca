"""DateTime is RFC 3339 with a time zone, both ways; a bare date or a local time is
BAD_USER_INPUT whether it comes as a variable or inline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from graphql import GraphQLError

from askbase.schema.types import parse_date_time, serialize_date_time
from tests.conftest import Api, Tenant

ACTIVITY = """
query($w: ID!, $from: DateTime!, $to: DateTime!) {
  activity(websiteId: $w, from: $from, to: $to, bucket: DAY) { at }
}"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T09:30:00Z", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        ("2026-12-01t09:30:00z", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        (
            "2026-12-01T10:30:00.25+01:00",
            datetime(2026, 12, 1, 10, 30, 0, 250_000, tzinfo=timezone(timedelta(hours=1))),
        ),
        (
            "2026-12-01T04:00:00.1234567-05:30",
            datetime(2026, 12, 1, 4, 0, 0, 123_456, tzinfo=timezone(-timedelta(hours=5.5))),
        ),
    ],
)
def test_rfc_3339_date_times_are_read_with_their_offset(text: str, expected: datetime) -> None:
    parsed = parse_date_time(text)
    assert parsed == expected and parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-01",  # a bare date
        "2026-12-01T09:30:00",  # a local time
        "2026-12-01T09:30Z",  # no seconds
        "2026-12-01 09:30:00Z",  # no T
        "20261201T093000Z",  # ISO 8601 basic format
        "2026-W48-2T09:30:00Z",  # a week date
        "2026-02-30T09:30:00Z",  # no such day
        "2026-12-01T09:30:00+24:00",  # no such offset
        "\uff12\uff10\uff12\uff16-12-01T09:30:00Z",  # fullwidth digits
        "",
    ],
)
def test_anything_else_is_bad_user_input(text: str) -> None:
    with pytest.raises(GraphQLError) as caught:
        parse_date_time(text)
    assert caught.value.extensions == {"code": "BAD_USER_INPUT"}
    assert "RFC 3339" in caught.value.message or "range" in caught.value.message


def test_non_strings_are_refused_and_output_always_has_an_offset() -> None:
    with pytest.raises(GraphQLError):
        parse_date_time(1_700_000_000)
    assert serialize_date_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "2026-01-02T03:04:05+00:00"
    )
    assert serialize_date_time(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05+00:00"


async def test_the_api_refuses_a_bare_date_as_a_variable_or_inline(
    api: Api, tenant: Tenant
) -> None:
    good = {"w": tenant.website_id, "from": "2026-01-01T00:00:00Z", "to": "2026-01-03T00:00:00Z"}
    points = (await api.data(ACTIVITY, good, token=tenant.owner))["activity"]
    assert [p["at"] for p in points] == ["2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00"]

    for bad in ("2026-01-01", "2026-01-01T00:00:00"):
        error = await api.error(ACTIVITY, {**good, "from": bad}, token=tenant.owner)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "RFC 3339" in error["message"] and "$from" in error["message"]

    inline = (
        '{ activity(websiteId: "%s", from: "2026-01-01", to: "2026-01-03T00:00:00Z") { at } }'
        % tenant.website_id
    )
    error = await api.error(inline, token=tenant.owner)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "RFC 3339" in error["message"]


async def test_introspection_names_the_specifications(api: Api) -> None:
    query = '{ __type(name: "DateTime") { specifiedByURL description } }'
    found = (await api.data(query))["__type"]
    assert found["specifiedByURL"] == "https://datatracker.ietf.org/doc/html/rfc3339"
    assert "time zone offset" in found["description"]
