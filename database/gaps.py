"""Knowledge gaps: badly answered questions, grouped by meaning as they are stored.

A question joins the website's gap whose centroid is nearest, when the cosine similarity
is at least the threshold, or starts a gap of its own. The centroid is the normalized
running mean of its members' embeddings, and the gap's wording is the member nearest to
it. Grouping one website's questions is serialized by an advisory lock, so two wordings
of one question that arrive together still meet.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg
import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]


def _unit(vector: Vector) -> Vector:
    norm = float(np.linalg.norm(vector))
    unit: Vector = (vector / norm).astype(np.float32) if norm else vector.astype(np.float32)
    return unit


async def lock_website(conn: asyncpg.Connection, website_id: uuid.UUID) -> None:
    """Serialize changes to the website's gaps until the transaction ends."""
    await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 8))", str(website_id))


async def record(
    conn: asyncpg.Connection,
    *,
    website_id: uuid.UUID,
    message_id: uuid.UUID,
    question: str,
    embedding: Vector,
    reasons: list[str],
    asked_at: datetime,
    threshold: float,
) -> uuid.UUID:
    """Add a badly answered question (its assistant message) to a gap; a question already
    recorded gains the new reasons. Returns the gap's id. Runs as the service."""
    await lock_website(conn, website_id)
    known = await conn.fetchval(
        """
        update public.knowledge_gap_questions
        set reasons = array(select distinct r from unnest(reasons || $2::text[]) r order by r)
        where message_id = $1 returning gap_id
        """,
        message_id,
        reasons,
    )
    if known is not None:
        await conn.execute(
            "update public.knowledge_gaps set resolved_at = null where id = $1", known
        )
        gap_id: uuid.UUID = known
        return gap_id
    vector = _unit(embedding)
    nearest = await conn.fetchrow(
        """
        select id, centroid::real[] as centroid, size, 1 - (centroid <=> $2) as similarity
        from public.knowledge_gaps
        where website_id = $1 and vector_dims(centroid) = vector_dims($2)
        order by centroid <=> $2 limit 1
        """,
        website_id,
        vector,
    )
    if nearest is not None and nearest["similarity"] >= threshold:
        gap_id = nearest["id"]
        size = nearest["size"]
        centroid = _unit(np.asarray(nearest["centroid"], dtype=np.float32) * size + vector)
        await conn.execute(
            """
            update public.knowledge_gaps set centroid = $2, size = size + 1, resolved_at = null
            where id = $1
            """,
            gap_id,
            centroid,
        )
    else:
        gap_id = await conn.fetchval(
            """
            insert into public.knowledge_gaps (website_id, question, centroid, size)
            values ($1, $2, $3, 1) returning id
            """,
            website_id,
            question,
            vector,
        )
    await conn.execute(
        """
        insert into public.knowledge_gap_questions
          (message_id, gap_id, website_id, question, embedding, reasons, asked_at)
        values ($1, $2, $3, $4, $5, $6, $7)
        """,
        message_id,
        gap_id,
        website_id,
        question,
        vector,
        sorted(set(reasons)),
        asked_at,
    )
    await conn.execute(
        """
        update public.knowledge_gaps g set question = (
          select q.question from public.knowledge_gap_questions q
          where q.gap_id = g.id order by q.embedding <=> g.centroid, q.asked_at limit 1
        ) where g.id = $1
        """,
        gap_id,
    )
    return gap_id


async def drop_reason(conn: asyncpg.Connection, message_id: uuid.UUID, reason: str) -> None:
    """Take a reason back (a thumbs-down rated up again); a question left with no reason
    leaves its gap (the centroid keeps its contribution, which one question barely moves)."""
    left = await conn.fetchval(
        """
        update public.knowledge_gap_questions set reasons = array_remove(reasons, $2)
        where message_id = $1 returning cardinality(reasons)
        """,
        message_id,
        reason,
    )
    if left == 0:
        await conn.execute(
            "delete from public.knowledge_gap_questions where message_id = $1", message_id
        )


async def forget(conn: asyncpg.Connection, gap_ids: Sequence[uuid.UUID]) -> None:
    """Tidy gaps whose questions were deleted (with their chats): a gap with none left goes;
    the others take their size, centroid and wording from the questions left, so that
    nothing of a deleted question stays. Runs under the website's lock (`lock_website`),
    as the owner or the service."""
    ids = list(set(gap_ids))
    if not ids:
        return
    await conn.execute(
        """
        delete from public.knowledge_gaps g where g.id = any($1::uuid[])
          and not exists (select 1 from public.knowledge_gap_questions q where q.gap_id = g.id)
        """,
        ids,
    )
    left = await conn.fetch(
        """
        select gap_id, count(*)::integer as size, avg(embedding)::real[] as mean
        from public.knowledge_gap_questions where gap_id = any($1::uuid[]) group by gap_id
        """,
        ids,
    )
    await conn.executemany(
        "update public.knowledge_gaps set size = $2, centroid = $3 where id = $1",
        [(r["gap_id"], r["size"], _unit(np.asarray(r["mean"], dtype=np.float32))) for r in left],
    )
    await conn.execute(
        """
        update public.knowledge_gaps g set question = (
          select q.question from public.knowledge_gap_questions q
          where q.gap_id = g.id order by q.embedding <=> g.centroid, q.asked_at limit 1
        ) where g.id = any($1::uuid[])
        """,
        ids,
    )


GAP_SELECT = """
    select g.id, g.question, g.resolved_at is not null as resolved, s.count,
      s.first_asked_at, s.last_asked_at,
      array(select distinct r from public.knowledge_gap_questions q, unnest(q.reasons) r
            where q.gap_id = g.id and q.asked_at >= s.first_asked_at
              and q.asked_at <= s.last_asked_at order by r) as reasons,
      array(select e.question from (
              select distinct on (lower(q.question)) q.question, q.asked_at
              from public.knowledge_gap_questions q
              where q.gap_id = g.id and lower(q.question) <> lower(g.question)
                and q.asked_at >= s.first_asked_at and q.asked_at <= s.last_asked_at
              order by lower(q.question), q.asked_at desc
            ) e order by e.asked_at desc limit $examples) as examples
"""


async def top(
    conn: asyncpg.Connection,
    website_id: uuid.UUID,
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    include_resolved: bool,
    examples: int = 5,
) -> list[asyncpg.Record]:
    """The gaps asked about in [since, until), most asked first, counted in that range."""
    rows: list[asyncpg.Record] = await conn.fetch(
        GAP_SELECT.replace("$examples", "$6")
        + """
        from (
          select gap_id, count(*) as count, min(asked_at) as first_asked_at,
                 max(asked_at) as last_asked_at
          from public.knowledge_gap_questions
          where website_id = $1
            and ($2::timestamptz is null or asked_at >= $2)
            and ($3::timestamptz is null or asked_at < $3)
          group by gap_id
        ) s join public.knowledge_gaps g on g.id = s.gap_id
        where $5 or g.resolved_at is null
        order by s.count desc, s.last_asked_at desc, g.id
        limit $4
        """,
        website_id,
        since,
        until,
        limit,
        include_resolved,
        examples,
    )
    return rows


async def resolve(conn: asyncpg.Connection, gap_id: uuid.UUID) -> asyncpg.Record | None:
    """Mark a gap resolved; the gap as a whole (every question of it), or None."""
    found = await conn.fetchval(
        "update public.knowledge_gaps set resolved_at = now() where id = $1 returning id", gap_id
    )
    if found is None:
        return None
    row: asyncpg.Record | None = await conn.fetchrow(
        GAP_SELECT.replace("$examples", "5")
        + """
        from (
          select gap_id, count(*) as count, min(asked_at) as first_asked_at,
                 max(asked_at) as last_asked_at
          from public.knowledge_gap_questions where gap_id = $1 group by gap_id
        ) s join public.knowledge_gaps g on g.id = s.gap_id
        """,
        gap_id,
    )
    return row
