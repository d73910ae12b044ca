"""The stored vectors and the configured embedder must agree."""

from __future__ import annotations

import asyncpg

from askbase.app.knowledge.embeddings import Embedder
from askbase.database import chunks, embedding_settings


class EmbedderMismatch(RuntimeError):
    pass


async def adopt_or_check(conn: asyncpg.Connection, embedder: Embedder) -> None:
    """Record the embedder on first use; refuse a different one afterwards."""
    stored = await embedding_settings.get(conn)
    if stored is None:
        if await chunks.embedding_column_dimension(conn) != embedder.dimension:
            await chunks.set_embedding_dimension(conn, embedder.dimension)
        await embedding_settings.put(conn, embedder.name, embedder.dimension)
        return
    model, dimension = stored
    if (model, dimension) != (embedder.name, embedder.dimension):
        raise EmbedderMismatch(
            f"the database holds vectors from {model} ({dimension} dimensions) but this "
            f"server is configured for {embedder.name} ({embedder.dimension} dimensions): "
            f"configure {model} again, or run `askbase reindex` to re-embed everything"
        )
