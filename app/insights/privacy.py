"""Privacy: chats are deleted once they are older than their website's retention period,
and owners delete one visitor's data on request (a GDPR erasure).

The retention job runs in the ingestion workers between jobs, as scheduled syncs do: one
run per RETENTION_EVERY_SECONDS across every instance (claimed in `scheduled_runs`), in
batches of one short transaction each, at most MAX_BATCHES a run; a backlog drains over
the following runs, each website in turn.
"""

from __future__ import annotations

import time
import uuid

import asyncpg
import structlog

from askbase.app.auth.context import Context, visible_website
from askbase.app.core.errors import is_outage
from askbase.database import gaps, privacy
from askbase.database.pool import Database
from askbase.database.privacy import Deleted

log = structlog.get_logger("askbase.privacy")

RETENTION_TASK = "retention"
RETENTION_EVERY_SECONDS = 600.0
BATCH_CHATS = 200
MAX_BATCHES = 50


async def delete_visitor_data(
    ctx: Context, website_id: uuid.UUID, visitor_id: uuid.UUID
) -> Deleted:
    """Delete the visitor's chats on the website, with their messages and ratings, in one
    transaction as the owner (row-level security applies). A visitor id with no chats
    deletes nothing and is not an error."""
    await ctx.owner()
    async with ctx.db() as conn:
        await visible_website(conn, website_id)
        await gaps.lock_website(conn, website_id)
        chats = await privacy.visitor_chats(conn, website_id, visitor_id)
        return await privacy.delete_chats(conn, chats)


async def purge_expired(
    db: Database, *, batch: int = BATCH_CHATS, max_batches: int = MAX_BATCHES
) -> Deleted:
    """Delete the chats whose last activity is older than their website's `retentionDays`
    (websites without one keep their chats): up to `batch` chats per transaction, one
    batch per website in turn, at most `max_batches` in all."""
    async with db.service() as conn:
        pending = [(r["id"], r["days"]) for r in await privacy.websites_due(conn)]
    total = Deleted()
    batches = 0
    while pending and batches < max_batches:
        still: list[tuple[uuid.UUID, int]] = []
        for website_id, days in pending:
            if batches == max_batches:
                break
            batches += 1
            async with db.service() as conn:
                await gaps.lock_website(conn, website_id)
                chats = await privacy.expired_chats(conn, website_id, days, batch)
                total += await privacy.delete_chats(conn, chats)
            if len(chats) == batch:
                still.append((website_id, days))
        pending = still
    return total


class RetentionJob:
    """What the workers call between jobs (app/knowledge/ingest/worker.py). This process
    asks for a run at most every `check_seconds`; the database grants one run per
    `every_seconds` to whichever instance asks first. A failed run is logged and tried
    again at the next period: it never stops the worker."""

    def __init__(
        self, every_seconds: float = RETENTION_EVERY_SECONDS, check_seconds: float = 60.0
    ) -> None:
        self.every_seconds = every_seconds
        self.check_seconds = check_seconds
        self._next_check = 0.0

    async def __call__(self, db: Database) -> None:
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + self.check_seconds
        try:
            async with db.service() as conn:
                if not await privacy.claim_run(conn, RETENTION_TASK, self.every_seconds):
                    return
            deleted = await purge_expired(db)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("retention run failed", error=type(error).__name__)
            return
        except Exception as error:  # a bug here must not stop ingestion
            if is_outage(error):  # a connection caught mid-statement by an outage
                log.warning("retention run failed", error=type(error).__name__)
                return
            log.exception("retention run failed")
            return
        if deleted.chats:
            log.info(
                "retention: old chats deleted",
                chats=deleted.chats,
                messages=deleted.messages,
                feedback=deleted.feedback,
            )
