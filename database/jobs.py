"""The ingestion job queue: claimed with FOR UPDATE SKIP LOCKED, leased, retried."""

from __future__ import annotations

import uuid

import asyncpg

COLUMNS = "id, document_id, source_id, website_id, kind, status, attempts, locked_by, error"


async def enqueue(
    conn: asyncpg.Connection, document_id: uuid.UUID, website_id: uuid.UUID
) -> uuid.UUID:
    job_id: uuid.UUID = await conn.fetchval(
        "insert into public.jobs (document_id, website_id) values ($1, $2) returning id",
        document_id,
        website_id,
    )
    return job_id


async def claim(
    conn: asyncpg.Connection, worker: str, lease_seconds: float
) -> asyncpg.Record | None:
    """Take a runnable job (queued and due, or running with an expired lease: its worker
    died), website by website in turn: the oldest job of the website whose last claim
    is the oldest (job_turns), so that no website's backlog starves another's. Concurrent
    workers skip each other's rows instead of waiting."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        with runnable as (
          select id, website_id, run_after, created_at
          from public.jobs
          where (status = 'queued' and run_after <= now())
             or (status = 'running' and locked_at < now() - make_interval(secs => $2))
        ), picked as (
          -- a job another worker is claiming right now is skipped: the next one of the
          -- same website comes next, then the other websites in their turn
          select j.id, j.website_id
          from public.jobs j
          join runnable r on r.id = j.id
          left join public.job_turns t on t.website_id = r.website_id
          -- checked again on the locked row: another worker may have claimed it since
          where (j.status = 'queued' and j.run_after <= now())
             or (j.status = 'running' and j.locked_at < now() - make_interval(secs => $2))
          order by t.served_at nulls first, r.run_after, r.created_at
          limit 1
          for update of j skip locked
        ), turn as (
          insert into public.job_turns (website_id, served_at)
          select website_id, clock_timestamp() from picked
          on conflict (website_id) do update set served_at = excluded.served_at
        )
        update public.jobs j
        set status = 'running', attempts = j.attempts + 1, locked_by = $1, locked_at = now()
        from picked
        where j.id = picked.id
        returning {", ".join("j." + c.strip() for c in COLUMNS.split(","))}
        """,
        worker,
        lease_seconds,
    )
    return row


async def fail_abandoned(
    conn: asyncpg.Connection, lease_seconds: float, max_attempts: int, reason: str
) -> int:
    """Jobs whose lease ran out on their last allowed attempt (their worker died each
    time: a file that kills its parser, say) fail, with their documents, instead of
    being claimed again forever. Returns how many."""
    failed: int = await conn.fetchval(
        """
        with dead as (
          update public.jobs
          set status = 'failed', error = $3, locked_by = null, locked_at = null
          where status = 'running' and attempts >= $2
            and locked_at < now() - make_interval(secs => $1)
          returning document_id, source_id
        ), documents as (
          update public.documents d set status = 'failed', error = $3, updated_at = now()
          from dead where d.id = dead.document_id
          returning d.id
        ), sources as (  -- a website sync that never finished
          update public.website_sources s set state = 'failed', error = $3
          from dead where s.id = dead.source_id
          returning s.id
        )
        select count(*) from dead
        """,
        lease_seconds,
        max_attempts,
        reason,
    )
    return failed


async def heartbeat(conn: asyncpg.Connection, job_id: uuid.UUID, worker: str) -> bool:
    """Extend the lease; False when another worker has taken the job over."""
    updated = await conn.fetchval(
        "update public.jobs set locked_at = now() where id = $1 and locked_by = $2 "
        "and status = 'running' returning id",
        job_id,
        worker,
    )
    return updated is not None


async def finish(
    conn: asyncpg.Connection, job_id: uuid.UUID, worker: str, status: str, error: str | None
) -> bool:
    """Mark a job done or failed, if this worker still holds it."""
    updated = await conn.fetchval(
        "update public.jobs set status = $3, error = $4, locked_by = null, locked_at = null "
        "where id = $1 and locked_by = $2 and status = 'running' returning id",
        job_id,
        worker,
        status,
        error,
    )
    return updated is not None


async def retry_later(
    conn: asyncpg.Connection, job_id: uuid.UUID, worker: str, delay_seconds: float, error: str
) -> bool:
    updated = await conn.fetchval(
        """
        update public.jobs
        set status = 'queued', error = $4, locked_by = null, locked_at = null,
            run_after = now() + make_interval(secs => $3)
        where id = $1 and locked_by = $2 and status = 'running' returning id
        """,
        job_id,
        worker,
        delay_seconds,
        error,
    )
    return updated is not None


async def pending_for(conn: asyncpg.Connection, document_ids: list[uuid.UUID]) -> int:
    count: int = await conn.fetchval(
        "select count(*) from public.jobs where document_id = any($1::uuid[]) "
        "and status in ('queued', 'running')",
        document_ids,
    )
    return count


async def counts_by_status(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch("select status, count(*) as n from public.jobs group by status")
    return {row["status"]: row["n"] for row in rows}
