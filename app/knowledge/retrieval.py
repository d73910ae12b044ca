"""Retrieval for owners and visitors: hybrid search over one website's chunks."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import asyncpg
import numpy as np
import numpy.typing as npt

from askbase.app.auth.context import Context, visible_website
from askbase.app.auth.tokens import Visitor
from askbase.app.core.errors import BadUserInput, Forbidden, Unavailable
from askbase.app.core.settings import Settings
from askbase.app.knowledge.embeddings import Embedder, EmbeddingUnavailable, QueryCache
from askbase.database import search

SNIPPET_CHARS = 320
MAX_LIMIT = 20
_WORDS = re.compile(r"\w{3,}")


_OPERATORS = re.compile(r'"[^"]+"|(^|\s)-\w')


def required_syntax(query: str) -> str | None:
    """The query as websearch syntax that every hit must match, when it uses any.

    Plain questions ("how long do refunds take?") are ranked over their words; a query
    with a "quoted phrase" or an excluded -word keeps only the chunks that match it (as
    websearch_to_tsquery reads it). A plain "or" is left to ranking: in a question it is
    usually just a word.
    """
    return query if _OPERATORS.search(query) else None


@dataclass(frozen=True, slots=True)
class Hit:
    document_id: uuid.UUID
    chunk_id: uuid.UUID
    title: str
    snippet: str
    score: float
    content: str
    similarity: float | None = None  # cosine similarity, when the vector side found it
    url: str | None = None  # the page, for a document a website source stored


def snippet(content: str, query: str, size: int = SNIPPET_CHARS) -> str:
    """The window of the chunk that holds most of the query's words."""
    if len(content) <= size:
        return content
    words = {w.lower() for w in _WORDS.findall(query)}
    best, best_hits = 0, -1
    for start in range(0, len(content) - size + 1, max(1, size // 4)):
        window = content[start : start + size].lower()
        hits = sum(1 for w in words if w in window)
        if hits > best_hits:
            best, best_hits = start, hits
    text = content[best : best + size]
    if best > 0:
        text = "…" + text[text.find(" ") + 1 :]
    if best + size < len(content):
        text = text[: text.rfind(" ")] + "…"
    return text


@dataclass(frozen=True, slots=True)
class Tuning:
    """How vector and full-text ranks are fused (SEARCH_* settings).

    `title_weight` (≥ 1): how much more a question's word counts in full-text ranking when
    it is in the chunk's title (file name and headings) than in its text. `page_share`:
    the share of the other candidate chunks of the same page added to a chunk's score
    (bench/retrieval.py: with a text weight of 0.5, hit@1 0.57 -> 0.63 on git-doc and
    0.65 -> 0.70 on Python's documentation; README, "Answer quality").
    """

    candidates: int
    rrf_k: int
    vector_weight: float
    text_weight: float
    per_document: int = 1
    title_weight: float = 1.0
    page_share: float = 0.05

    @classmethod
    def of(cls, settings: Settings) -> Tuning:
        return cls(
            candidates=settings.search_candidates,
            rrf_k=settings.search_rrf_k,
            vector_weight=settings.search_vector_weight,
            text_weight=settings.search_text_weight,
            per_document=settings.search_max_per_document,
        )


async def embed_query(
    embedder: Embedder, text: str, website_id: uuid.UUID
) -> npt.NDArray[np.float32]:
    """The question's vector; a cache of recent questions is kept per website."""
    try:
        if isinstance(embedder, QueryCache):
            vectors = await embedder.embed([text], "query", scope=str(website_id))
        else:
            vectors = await embedder.embed([text], "query")
    except EmbeddingUnavailable:
        raise Unavailable("Search is unavailable right now; try again shortly.") from None
    vector: npt.NDArray[np.float32] = vectors[0]
    return vector


async def hybrid_hits(
    conn: asyncpg.Connection,
    website_id: uuid.UUID,
    embedding: npt.NDArray[np.float32],
    text: str,
    limit: int,
    tuning: Tuning,
) -> list[Hit]:
    """The best `limit` chunks of one website; run in a session with search.HNSW_SETTINGS."""
    rows = await search.hybrid(
        conn,
        website_id,
        embedding,
        text,
        limit=limit,
        candidates=max(tuning.candidates, limit),
        rrf_k=tuning.rrf_k,
        vector_weight=tuning.vector_weight,
        text_weight=tuning.text_weight,
        per_document=tuning.per_document,
        required=required_syntax(text),
        title_weight=tuning.title_weight,
        page_share=tuning.page_share,
    )
    return [
        Hit(
            document_id=r["document_id"],
            chunk_id=r["id"],
            title=r["title"],
            snippet=snippet(r["content"], text),
            score=float(r["score"]),
            content=r["content"],
            similarity=None if r["similarity"] is None else float(r["similarity"]),
            url=r["url"],
        )
        for r in rows
    ]


async def run(ctx: Context, website_id: uuid.UUID, query: str, limit: int | None) -> list[Hit]:
    settings = ctx.state.settings
    text = query.strip()
    if not text:
        raise BadUserInput("`query` must not be empty.", field="query")
    if len(query) > settings.max_search_chars or "\x00" in query:
        raise BadUserInput(
            f"`query` must be at most {settings.max_search_chars} characters of text.",
            field="query",
        )
    count = 5 if limit is None else limit
    if not 1 <= count <= MAX_LIMIT:
        raise BadUserInput(f"`limit` must be between 1 and {MAX_LIMIT}.", field="limit")
    caller = await ctx.caller()
    if isinstance(caller, Visitor) and caller.website_id != website_id:
        raise Forbidden("This session belongs to another website.")
    if not isinstance(caller, Visitor):  # an owner is charged only for their own website
        async with ctx.db() as conn:
            await visible_website(conn, website_id)
    # Each search costs a query embedding (CPU, or a paid API call): counted like a
    # question, each alias of a request on its own.
    await ctx.charge(caller, website_id)
    embedding = await embed_query(ctx.state.embedder, text, website_id)
    async with ctx.db(search.HNSW_SETTINGS) as conn:
        await visible_website(conn, website_id, owner_view=False)
        return await hybrid_hits(conn, website_id, embedding, text, count, Tuning.of(settings))
