"""Hybrid retrieval in one statement: HNSW cosine + full-text, fused by reciprocal rank.

The full-text side ranks by BM25 (term statistics kept by triggers, migration 003) over
the question's words; `required`, when given, is websearch syntax ("exact phrase",
-excluded) that every hit must match; `title_weight` counts a word found in the chunk's
title (file name and headings, weight A) that much more than one in its text. A chunk
gets `page_share` of what the other candidates of its page score, so that a page which
matches in several places ranks above one passage that happens to be close. At most
`per_document` chunks of one document are returned, so that a long page does not crowd
out the others.
"""

from __future__ import annotations

import uuid

import asyncpg
import numpy as np
import numpy.typing as npt

# Run inside a transaction with these settings (Database.session(settings=...)): iterative
# index scans keep returning candidates until enough rows pass the website filter, so a
# small tenant among large ones keeps its recall.
HNSW_SETTINGS = {"hnsw.iterative_scan": "relaxed_order", "hnsw.ef_search": "100"}


HYBRID_SQL = """
with vector_hits as (
  select id, row_number() over (order by distance) as rank, 1 - distance as similarity
  from (
    select id, embedding <=> $2 as distance
    from public.document_chunks
    where website_id = $1
    order by embedding <=> $2
    limit $4
  ) nearest
),
stats as (
  select s.chunks::float8 as n from public.chunk_stats s where s.website_id = $1
),
terms as (  -- the question's lexemes, rarest first, with their BM25 weight
  select lexeme, idf, q, sum(chunks) over (order by idf desc, lexeme) - chunks as before
  from (
    select l.lexeme, l.chunks, ln(1 + (st.n - l.chunks + 0.5) / (l.chunks + 0.5)) as idf,
           -- the lexeme quoted as tsquery input: 'it''s', 'a\\b'
           (chr(39) || replace(replace(l.lexeme, chr(92), chr(92) || chr(92)),
                               chr(39), chr(39) || chr(39)) || chr(39))::tsquery as q
    from stats st, public.chunk_lexemes l
    where l.website_id = $1 and l.chunks > 0
      and l.lexeme = any(tsvector_to_array(to_tsvector('english', $3)))
    order by idf desc, l.lexeme
    limit 16
  ) known
),
matched as (
  -- Candidates come from the rarest terms, as many as fit a budget of rows (the
  -- rarest always): a common word still adds to a candidate's score, but does
  -- not make every chunk a candidate.
  select c.id, c.fts || ''::tsvector as fts  -- detoasted once, not once per term
  from public.document_chunks c
  where c.website_id = $1
    and c.fts @@ (select string_agg(q::text, ' | ')::tsquery from terms where before < $11)
    and ($10::text is null or c.fts @@ websearch_to_tsquery('english', $10))
  limit $11
),
text_hits as (
  select id, row_number() over (order by score desc) as rank
  from (
    -- BM25 with ts_rank's saturating term frequency for one term (0.61 for one
    -- occurrence, 0.76 for two, 0.87 for four) in place of k1.
    select m.id, (select sum(t.idf * ts_rank($12::float4[], m.fts, t.q, 0))
                  from terms t) as score
    from matched m
    order by score desc
    limit $4
  ) scored
),
fused as materialized (  -- plain ids, which a row-level policy lets index scans use
  select coalesce(v.id, t.id) as id,
         coalesce($6::float8 / ($5::float8 + v.rank), 0)
         + coalesce($7::float8 / ($5::float8 + t.rank), 0) as score,
         v.rank as vector_rank, t.rank as text_rank, v.similarity
  from vector_hits v full outer join text_hits t on t.id = v.id
),
ranked as (
  -- A chunk's score, plus a share ($13) of what the other candidates of its page score:
  -- a page that answers has several chunks near the question, on either side.
  select c.id, c.document_id, c.title, c.heading_path, c.content, c.url,
         f.score + $13::float8 * (sum(f.score) over page - f.score) as score,
         f.vector_rank, f.text_rank, f.similarity,
         row_number() over (page order by f.score desc, f.vector_rank nulls last) as nth
  -- One primary-key lookup per candidate (`limit 1` keeps the planner from turning
  -- it into a join that scans every chunk the row-level policy lets through).
  from fused f cross join lateral (
    select c.id, c.document_id, c.title, c.heading_path, c.content, c.url, c.fts
    from public.document_chunks c
    where c.id = f.id
    limit 1
  ) c
  where $10::text is null or c.fts @@ websearch_to_tsquery('english', $10)
  window page as (partition by c.document_id)
)
select id, document_id, title, heading_path, content, url,
       score, vector_rank, text_rank, similarity
from ranked
where nth <= $9
order by score desc, vector_rank nulls last
limit $8
"""


async def hybrid(
    conn: asyncpg.Connection,
    website_id: uuid.UUID,
    embedding: npt.NDArray[np.float32],
    query: str,
    *,
    limit: int,
    candidates: int,
    rrf_k: int,
    vector_weight: float,
    text_weight: float,
    per_document: int,
    required: str | None = None,
    text_budget: int = 1000,
    title_weight: float = 1.0,
    page_share: float = 0.0,
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        HYBRID_SQL,
        website_id,
        embedding,
        query,
        candidates,
        float(rrf_k),
        vector_weight,
        text_weight,
        limit,
        per_document,
        required,
        text_budget,
        [1 / title_weight] * 3 + [1.0],
        page_share,
    )
    return rows
