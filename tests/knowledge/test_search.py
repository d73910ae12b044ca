"""Hybrid search: BM25 statistics kept by triggers, rare words outranking common ones,
websearch syntax, hostile query text, and one chunk per document by default."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from tests.conftest import Api, Tenant
from tests.knowledge.test_documents import ADD_TEXT, SEARCH, wait_until_done


async def add_text(api: Api, site: Tenant, name: str, text: str) -> str:
    doc = (
        await api.data(ADD_TEXT, {"w": site.website_id, "n": name, "t": text}, token=site.owner)
    )["addDocumentText"]
    assert (await wait_until_done(api, site.owner, doc["id"]))["status"] == "READY"
    document_id: str = doc["id"]
    return document_id


async def search(api: Api, site: Tenant, query: str, limit: int = 5) -> list[dict[str, Any]]:
    hits: list[dict[str, Any]] = (
        await api.data(SEARCH, {"w": site.website_id, "q": query, "n": limit}, token=site.owner)
    )["search"]
    return hits


async def lexeme_counts(admin: asyncpg.Connection, website_id: str) -> dict[str, int]:
    rows = await admin.fetch(
        "select lexeme, chunks from public.chunk_lexemes where website_id = $1",
        uuid.UUID(website_id),
    )
    return {r["lexeme"]: r["chunks"] for r in rows}


async def test_text_statistics_follow_inserts_and_deletes(
    api: Api, tenant: Tenant, admin: asyncpg.Connection
) -> None:
    first = await add_text(api, tenant, "a.txt", "Parcels ship from Lisbon.")
    await add_text(api, tenant, "b.txt", "Parcels arrive in Oslo.")
    counts = await lexeme_counts(admin, tenant.website_id)
    # Each chunk's title (the file name) is indexed too.
    assert counts["parcel"] == 2 and counts["lisbon"] == 1 and counts["oslo"] == 1
    stats = await admin.fetchrow(
        "select chunks, lexemes from public.chunk_stats where website_id = $1",
        uuid.UUID(tenant.website_id),
    )
    assert stats is not None and stats["chunks"] == 2
    assert stats["lexemes"] == await admin.fetchval(
        "select sum(length(fts)) from public.document_chunks where website_id = $1",
        uuid.UUID(tenant.website_id),
    )

    deleted = await api.data(
        "mutation($d: ID!) { deleteDocument(id: $d) }", {"d": first}, token=tenant.owner
    )
    assert deleted["deleteDocument"] is True
    counts = await lexeme_counts(admin, tenant.website_id)
    assert counts["parcel"] == 1 and "lisbon" not in counts
    await api.data(
        "mutation($w: ID!) { deleteWebsite(id: $w) }", {"w": tenant.website_id}, token=tenant.owner
    )
    assert await lexeme_counts(admin, tenant.website_id) == {}


async def test_rare_words_outrank_common_ones(api: Api, tenant: Tenant) -> None:
    for i in range(6):
        await add_text(
            api,
            tenant,
            f"product-{i}.txt",
            f"Our product number {i} is a great product. Order the product today; "
            "the product ships in a box with the product manual.",
        )
    refunds = await add_text(
        api, tenant, "policy.txt", "Refunds are paid within five working days of the return."
    )
    hits = await search(api, tenant, "how long do refunds take for my product?")
    assert hits[0]["documentId"] == refunds


async def test_websearch_syntax_filters_text_hits(api: Api, tenant: Tenant) -> None:
    blue = await add_text(api, tenant, "blue.txt", "The blue widget is sold in packs of ten.")
    red = await add_text(api, tenant, "red.txt", "The red widget is sold alone.")
    await add_text(api, tenant, "widgets.txt", "Every widget here is red or blue.")
    phrase = await search(api, tenant, '"blue widget"')
    assert [h["documentId"] for h in phrase] == [blue]
    excluded = await search(api, tenant, "widget -blue")
    assert [h["documentId"] for h in excluded] == [red]


async def test_hostile_query_text_is_just_text(api: Api, tenant: Tenant) -> None:
    await add_text(api, tenant, "quotes.txt", "It's a back\\slash and a 'quoted' word: O'Brien.")
    for query in ("it's O'Brien", "back\\slash", "'; drop table x; --", "a & b | !c <-> d", ":*"):
        hits = await search(api, tenant, query)
        assert isinstance(hits, list)
    assert (await search(api, tenant, "O'Brien"))[0]["title"] == "quotes.txt"


async def test_one_long_document_does_not_crowd_out_the_rest(api: Api, tenant: Tenant) -> None:
    sections = "\n\n".join(
        f"## Shipping rule {i}\n\nShipping to zone {i} takes {i + 2} days by courier."
        for i in range(12)
    )
    long = await add_text(api, tenant, "shipping.md", f"# Shipping\n\n{sections}")
    short = await add_text(api, tenant, "courier.txt", "Our courier shipping partner is DHL.")
    hits = await search(api, tenant, "shipping courier days", limit=5)
    documents = [h["documentId"] for h in hits]
    assert documents.count(long) == 1
    assert short in documents
