"""Hybrid retrieval in one statement: HNSW cosine + full-text, fused by reciprocal rank."""

from __future__ import annotations

import uuid

import asyncpg
import numpy as np
import numpy.typing as npt

# Run inside a transaction with these settings (Database.session(settings=...)): iterative
# index scans keep returning candidates until enough rows pass the website filter, so a
# small tenant among large ones keeps its recall.
HNSW_SETTINGS = {"hnsw.iterative_scan": "relaxed_order", "hnsw.ef_search": "100"}


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
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
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
        text_hits as (
          select id, row_number() over (order by score desc) as rank
          from (
            select c.id, ts_rank_cd(c.fts, q, 32) as score
            from public.document_chunks c, websearch_to_tsquery('english', $3) q
            where c.website_id = $1 and c.fts @@ q
            order by score desc
            limit $4
          ) matched
        ),
        fused as (
          select coalesce(v.id, t.id) as id,
                 coalesce($6::float8 / ($5::float8 + v.rank), 0)
                 + coalesce($7::float8 / ($5::float8 + t.rank), 0) as score,
                 v.rank as vector_rank, t.rank as text_rank, v.similarity
          from vector_hits v full outer join text_hits t on t.id = v.id
        )
        select c.id, c.document_id, c.title, c.heading_path, c.content,
               f.score, f.vector_rank, f.text_rank, f.similarity
        from fused f join public.document_chunks c on c.id = f.id
        order by f.score desc, f.vector_rank nulls last
        limit $8
        """,
        website_id,
        embedding,
        query,
        candidates,
        float(rrf_k),
        vector_weight,
        text_weight,
        limit,
    )
    return rows
