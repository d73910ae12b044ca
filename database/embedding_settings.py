"""The embedder whose vectors the database holds."""

from __future__ import annotations

import asyncpg


async def get(conn: asyncpg.Connection) -> tuple[str, int] | None:
    row = await conn.fetchrow("select model, dimension from public.embedding_settings")
    return (row["model"], row["dimension"]) if row else None


async def put(conn: asyncpg.Connection, model: str, dimension: int) -> None:
    await conn.execute(
        """
        insert into public.embedding_settings (singleton, model, dimension) values (true, $1, $2)
        on conflict (singleton) do update set model = $1, dimension = $2, updated_at = now()
        """,
        model,
        dimension,
    )
