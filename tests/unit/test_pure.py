"""The fast unit tier (`make unit-fast`): pure functions, no server, no database, no
model. Each test names the behaviour it proves; the integration tier covers the same code
behind real peers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from askbase.app.auth.tokens import (
    Anonymous,
    Keys,
    Owner,
    TokenVerifier,
    Visitor,
    db_role,
    mint_owner_token,
    mint_visitor_token,
    origin_allowed,
)
from askbase.app.chat.models import (
    AnswerRequest,
    Delta,
    ExtractiveAnswerer,
    Passage,
    TokenUsage,
    Turn,
)
from askbase.app.core.errors import BadUserInput, Unauthenticated
from askbase.app.core.pagination import check_first, decode_cursor, encode_cursor
from askbase.app.core.settings import ConfigError, load_settings
from askbase.app.core.validation import WebsiteCreate, validated
from askbase.app.knowledge.ingest.chunk import chunk_blocks
from askbase.app.knowledge.ingest.detect import UnsupportedFile, detect
from askbase.app.knowledge.ingest.parse import Block
from askbase.app.observability.metrics import ROUTES, route_label
from askbase.database.pool import _literal
from askbase.resolvers.arguments import parse_id

SECRET = b"unit-test-owner-secret-" + b"x" * 20


def test_a_cursor_round_trips_and_a_forged_one_is_bad_input() -> None:
    stamp, row = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), uuid.uuid4()
    assert decode_cursor(encode_cursor(stamp, row)) == (stamp, row)
    assert decode_cursor(None) is None
    for forged in ("nonsense", encode_cursor(stamp, row)[:-3], "MjAyNnxub3QtYS11dWlk"):
        with pytest.raises(BadUserInput) as caught:
            decode_cursor(forged)
        assert caught.value.extensions == {"code": "BAD_USER_INPUT", "field": "after"}


@pytest.mark.parametrize(("first", "ok"), [(None, True), (1, True), (0, False), (10_000, False)])
def test_page_sizes_are_bounded(first: int | None, ok: bool) -> None:
    if ok:
        assert check_first(first) == (first or 20)
    else:
        with pytest.raises(BadUserInput):
            check_first(first)


def test_ids_and_inputs_are_validated_with_the_field_named() -> None:
    known = uuid.uuid4()
    assert parse_id(str(known), "id") == known
    with pytest.raises(BadUserInput) as caught:
        parse_id("not-a-uuid", "chatId")
    assert caught.value.extensions["field"] == "chatId"
    with pytest.raises(BadUserInput) as caught:
        validated(WebsiteCreate, {"domain": "a.example", "allowedOrigins": ["ftp://x"]})
    assert "allowedOrigins" in caught.value.extensions["field"]


def test_origins_match_exactly_and_a_server_needs_the_wildcard() -> None:
    allowed = ["https://shop.example"]
    assert origin_allowed("https://SHOP.example/", allowed)
    assert not origin_allowed("https://shop.example.evil", allowed)
    assert not origin_allowed(None, allowed)
    assert origin_allowed(None, ["*"])


def test_tokens_verify_for_their_audience_only() -> None:
    keys = Keys(owner_secret=SECRET, visitor_secret=b"v" * 32, jwks_url=None)
    verifier = TokenVerifier(keys, "authenticated")
    owner_id, website_id, visitor_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    owner = asyncio.run(verifier.verify(mint_owner_token(SECRET, owner_id, 60)))
    assert isinstance(owner, Owner) and owner.user_id == owner_id
    token, _ = mint_visitor_token(keys, website_id, visitor_id, 60)
    visitor = asyncio.run(verifier.verify(token))
    assert isinstance(visitor, Visitor) and visitor.website_id == website_id
    other = TokenVerifier(
        Keys(owner_secret=b"y" * 43, visitor_secret=b"w" * 32, jwks_url=None), "authenticated"
    )
    with pytest.raises(Unauthenticated):
        asyncio.run(other.verify(token))
    assert db_role(Anonymous())[0] == "anon" and db_role(owner)[0] == "authenticated"


def test_detection_goes_by_content_and_refuses_binaries() -> None:
    assert detect(b"# Title\n\nSome text.", "notes.md").format == "markdown"
    assert detect(b"<!doctype html><html><body><p>x</p></body></html>", "page").format == "html"
    assert detect(b"%PDF-1.7\n...", "file.txt").format == "pdf"
    with pytest.raises(UnsupportedFile):
        detect(bytes(range(256)) * 8, "blob.bin")


def test_chunks_keep_their_headings_and_stay_near_the_target() -> None:
    sentences = [f"Sentence {i} says something about refunds." for i in range(120)]
    blocks = [Block("heading", "Refunds", 1)] + [Block("paragraph", s) for s in sentences]
    chunks = chunk_blocks(
        blocks,
        title="policy.md",
        count=lambda texts: [len(t.split()) for t in texts],
        target=100,
        overlap=10,
    )
    assert len(chunks) >= 6
    assert all(c.heading_path == ("Refunds",) for c in chunks)
    assert all(len(c.content.split()) <= 120 for c in chunks)
    last_of_first = chunks[0].content.splitlines()[-1]
    assert chunks[1].content.startswith(last_of_first), "consecutive chunks overlap"


def test_the_extractive_answerer_quotes_its_passages_and_counts_usage() -> None:
    request = AnswerRequest(
        turns=[
            Turn("system", "Answer from the sources."),
            Turn("user", "How long do refunds take?"),
        ],
        passages=[Passage(1, "policy.md", "Refunds take five working days.")],
        question="How long do refunds take?",
    )

    async def run() -> list[Delta | TokenUsage]:
        return [item async for item in ExtractiveAnswerer().stream(request)]

    items = asyncio.run(run())
    text = "".join(i.text for i in items if isinstance(i, Delta))
    assert "five working days" in text and "[1]" in text
    assert isinstance(items[-1], TokenUsage) and items[-1].completion_tokens > 0


def test_metric_route_labels_are_bounded() -> None:
    assert route_label("/files/" + str(uuid.uuid4())) == "/files/{id}"
    assert route_label("/widget/anything.js") == "/widget/{file}"
    assert route_label("/random/" + "x" * 50) == "other"
    assert all(route_label(r) == r for r in ROUTES)


def test_setting_literals_are_escaped_and_nul_is_refused() -> None:
    assert _literal("it's a \\ test") == "E'it''s a \\\\ test'"
    with pytest.raises(ValueError):
        _literal("nul\x00byte")


def test_bad_configuration_is_one_line_per_problem() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None, PORT="no", DB_POOL_MIN=5, DB_POOL_MAX=1)
    assert len(caught.value.problems) == 1 and caught.value.problems[0].startswith("PORT")
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None, DB_POOL_MIN=5, DB_POOL_MAX=1)
    assert caught.value.problems == ["DB_POOL_MIN must not exceed DB_POOL_MAX"]


def test_json_logs_carry_no_local_variables_and_name_the_pooler_setting() -> None:
    import io
    import sys

    import asyncpg
    import structlog

    from askbase.app.observability.logging import configure_logging

    stderr, sys.stderr = sys.stderr, io.StringIO()
    configure_logging(json=True, level="INFO")
    try:
        log = structlog.get_logger("test")
        secret = "Bearer eyJ-very-secret-token"  # noqa: F841 - a local the log must not show
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("unexpected error")
        try:
            raise asyncpg.exceptions.InvalidSQLStatementNameError("prepared statement lost")
        except asyncpg.PostgresError:
            log.exception("unexpected error")
        lines = sys.stderr.getvalue().splitlines()
    finally:
        sys.stderr = stderr
        configure_logging(json=False, level="INFO")  # as the test harness set it up
    assert len(lines) == 2 and "boom" in lines[0]
    assert "eyJ-very-secret-token" not in lines[0] and '"locals"' not in lines[0]
    assert "DATABASE_POOL_MODE=transaction" in lines[1]
    assert "DATABASE_POOL_MODE" not in lines[0]


def test_forwarded_clients_are_believed_only_from_trusted_proxies() -> None:
    from askbase.app.auth.clients import client_key
    from askbase.app.core.settings import parse_networks

    proxies = parse_networks(["10.0.0.0/8"])
    # From a trusted proxy: the first hop from the right that no trusted proxy wrote.
    assert client_key("10.0.0.2", "198.51.100.7, 10.0.0.9", proxies) == "198.51.100.7"
    # Whatever the client wrote to the left of its real address is never used.
    assert client_key("10.0.0.2", "1.2.3.4, 203.0.113.5", proxies) == "203.0.113.5"
    # A chain shorter than expected still ends at an address a proxy wrote.
    assert client_key("10.0.0.2", "203.0.113.5", proxies) == "203.0.113.5"
    # From anyone else, or with no trusted proxies configured, the header is ignored.
    assert client_key("203.0.113.9", "1.2.3.4", proxies) == "203.0.113.9"
    assert client_key("10.0.0.2", "1.2.3.4", []) == "10.0.0.2"
    # Garbage in the chain stops the walk at the last address a trusted proxy wrote.
    assert client_key("10.0.0.2", "1.2.3.4, nonsense, 10.0.0.3", proxies) == "10.0.0.3"
    # IPv6 clients are counted per /64.
    v6 = [client_key("2001:db8:1:2::1", None, []), client_key("2001:db8:1:2:ffff::9", None, [])]
    assert v6 == ["2001:db8:1:2::/64", "2001:db8:1:2::/64"]
    assert client_key("[2001:db8:1:3::1]:443", None, []) == "2001:db8:1:3::/64"
