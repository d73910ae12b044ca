"""Hand-off webhooks: a signed POST to the owner's URL when a chat asks for a person.

The body is JSON; `X-Askbase-Signature: sha256=<hex>` is the HMAC-SHA256 of the exact body
bytes with the website's secret. The URL goes through the guard of every server-side
fetch (app/knowledge/sources/fetch.py): no loopback, private, link-local (metadata) or
reserved address unless allow-listed in CRAWL_ALLOWED_PRIVATE_HOSTS, checked after DNS;
redirects are not followed. A failed attempt (no answer, 5xx, 408, 425, 429) is retried
after HANDOFF_WEBHOOK_RETRY_SECONDS, doubled each time, up to HANDOFF_WEBHOOK_ATTEMPTS;
every attempt is logged in `handoff_deliveries` for the owner.

Deliveries run as tasks of the process that took the request, not as jobs of the
ingestion queue: those run in a niced child process behind parsing and embedding, and
their rows belong to a document or a source, where a webhook is one small POST that
should leave at once. The price: a retry still waiting when the process stops is not
made (the log shows the attempts that were).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog

from askbase.app.core.settings import Settings
from askbase.app.knowledge.sources.fetch import (
    FetchFailed,
    Guard,
    Refused,
    parse_allowed,
    user_agent,
)
from askbase.database import handoff
from askbase.database.pool import Database

log = structlog.get_logger("askbase.webhooks")

SIGNATURE_HEADER = "X-Askbase-Signature"
EVENT = "handoff.requested"
RETRYABLE = frozenset({408, 425, 429})


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Delivery:
    website_id: uuid.UUID
    chat_id: uuid.UUID
    url: str
    secret: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None  # None: delivered
    retry: bool


class Webhooks:
    """Sends deliveries in the background; one per process (it holds the guard's pool)."""

    def __init__(self, db: Database, settings: Settings, version: str) -> None:
        self.db = db
        self.attempts = settings.handoff_webhook_attempts
        self.retry_seconds = settings.handoff_webhook_retry_seconds
        self.guard = Guard(
            allowed_hosts=parse_allowed(settings.crawl_allowed_private_hosts),
            user_agent=user_agent(version),
            max_bytes=64_000,
            timeout_seconds=settings.handoff_webhook_timeout_seconds,
            max_redirects=0,
        )
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, delivery: Delivery) -> None:
        task = asyncio.create_task(self._deliver(delivery), name="handoff-webhook")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.guard.aclose()

    async def _deliver(self, delivery: Delivery) -> None:
        event_id = uuid.uuid4()
        body = json.dumps(
            {"type": EVENT, "id": str(event_id), **delivery.payload}, separators=(",", ":")
        ).encode()
        headers = {
            "content-type": "application/json",
            SIGNATURE_HEADER: sign(delivery.secret, body),
            "x-askbase-event": EVENT,
            "x-askbase-delivery": str(event_id),
        }
        for attempt in range(1, self.attempts + 1):
            outcome = await self._attempt(delivery.url, body, headers)
            await self._log(delivery, event_id, attempt, outcome)
            if outcome.error is None or not outcome.retry:
                return
            if attempt < self.attempts:
                await asyncio.sleep(self.retry_seconds * 2 ** (attempt - 1))
        log.warning(
            "hand-off webhook not delivered",
            website_id=str(delivery.website_id),
            attempts=self.attempts,
        )

    async def _attempt(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        try:
            response = await self.guard.post(url, body, headers)
        except Refused as refused:
            return Outcome(None, f"refused: {refused}", retry=False)
        except FetchFailed as failed:
            return Outcome(None, str(failed), retry=True)
        status = response.status
        if status < 300:
            return Outcome(status, None, retry=False)
        if status < 400:
            return Outcome(status, f"HTTP {status}: redirects are not followed", retry=False)
        return Outcome(status, f"HTTP {status}", retry=status >= 500 or status in RETRYABLE)

    async def _log(
        self, delivery: Delivery, event_id: uuid.UUID, attempt: int, outcome: Outcome
    ) -> None:
        try:
            async with self.db.service() as conn:
                await handoff.record_delivery(
                    conn,
                    website_id=delivery.website_id,
                    chat_id=delivery.chat_id,
                    event_id=event_id,
                    attempt=attempt,
                    url=delivery.url,
                    status_code=outcome.status_code,
                    ok=outcome.error is None,
                    error=outcome.error,
                )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            # The website was deleted meanwhile, or the database is away: not the request's.
            log.warning("webhook delivery not logged", error=type(error).__name__)
