"""Chunk storage: a document's chunks are replaced as a whole, in one transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import numpy as np
import numpy.typing as npt
from pgvector import Vector


@dataclass(frozen=True, slots=True)
class NewChunk:
    content: str
    heading_path: Sequence[str]
    title: str  # "file > heading > subheading"
    summary: str  # the document's first paragraph, embedded with every chunk
    embedding: npt.NDArray[np.float32]


async def replace(
    conn: asyncpg.Connection,
    document_id: uuid.UUID,
    website_id: uuid.UUID,
    chunks: Sequence[NewChunk],
) -> None:
    """Delete the document's chunks and write the new ones (idempotent on retries).

    One INSERT for all chunks, so the text-statistics trigger runs once per document.
    """
    await conn.execute("delete from public.document_chunks where document_id = $1", document_id)
    if not chunks:
        return
    await conn.execute(
        """
        insert into public.document_chunks
          (document_id, website_id, ordinal, content, heading_path, title, summary, embedding,
           fts)
        select $1, $2, c.ordinal - 1, c.content,
               array(select jsonb_array_elements_text(c.heading_path::jsonb)), c.title, $7,
               c.embedding,
               setweight(to_tsvector('english', c.title), 'A') || to_tsvector('english', c.content)
        from unnest($3::text[], $4::text[], $5::text[], $6::vector[])
          with ordinality as c(content, heading_path, title, embedding, ordinal)
        """,
        document_id,
        website_id,
        [c.content for c in chunks],
        [json.dumps(list(c.heading_path)) for c in chunks],
        [c.title for c in chunks],
        [Vector(c.embedding) for c in chunks],
        chunks[0].summary,
    )


async def embedding_column_dimension(conn: asyncpg.Connection) -> int | None:
    dim: int | None = await conn.fetchval(
        """
        select nullif(a.atttypmod, -1) from pg_attribute a
        where a.attrelid = 'public.document_chunks'::regclass and a.attname = 'embedding'
        """
    )
    return dim


async def set_embedding_dimension(conn: asyncpg.Connection, dimension: int) -> None:
    """Retype the vector column (clearing every vector) and rebuild its HNSW index."""
    await conn.execute("drop index if exists public.document_chunks_embedding_idx")
    await conn.execute(
        f"alter table public.document_chunks alter column embedding type vector({int(dimension)}) "
        "using null"
    )
    await conn.execute(
        "create index document_chunks_embedding_idx on public.document_chunks "
        "using hnsw (embedding vector_cosine_ops)"
    )


async def all_for_reindex(
    conn: asyncpg.Connection, after: uuid.UUID | None, limit: int
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        select id, title, content, summary from public.document_chunks
        where ($1::uuid is null or id > $1) order by id limit $2
        """,
        after,
        limit,
    )
    return rows


async def set_embeddings(
    conn: asyncpg.Connection, rows: Sequence[tuple[uuid.UUID, npt.NDArray[np.float32]]]
) -> None:
    await conn.executemany(
        "update public.document_chunks set embedding = $2 where id = $1", list(rows)
    )


async def count_all(conn: asyncpg.Connection) -> int:
    total: int = await conn.fetchval("select count(*) from public.document_chunks")
    return total
