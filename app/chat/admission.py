"""Admission control for answers: a bounded number in their CPU-heavy phase at once, a
short queue with a deadline, and fairness between websites and between visitors.

An answer takes a slot from its start (embedding, retrieval, writes) until its first
token; streaming the rest costs little here. When every slot is taken, answers wait in a
queue of bounded length, one queue per website served in turn, so a website in a surge
waits behind itself and not in front of everyone else. An answer that cannot get a slot
within the deadline, or finds the queue full, is refused at once with UNAVAILABLE and a
`retryAfter`; nothing is written for it. Ingestion yields to waiting answers
(`pause_for_answers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field

import structlog

from askbase.app.core.errors import Unavailable
from askbase.app.observability.metrics import Metrics

log = structlog.get_logger("askbase.admission")


class Busy(Unavailable):
    """Refused by admission control: try again after `retryAfter` seconds. `waited`: the
    answer was queued first (refused after its subscription started)."""

    def __init__(self, retry_after: int, message: str, *, waited: bool = False) -> None:
        super().__init__(message, retryAfter=retry_after)
        self.retry_after = retry_after
        self.waited = waited


@dataclass(eq=False)
class _Waiter:
    website: str
    visitor: str | None
    granted: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass(eq=False)
class Slot:
    """Held by one answer until `release()` (its first token) or its end."""

    admission: Admission
    website: str
    visitor: str | None
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.admission._release(self)


class Admission:
    def __init__(
        self,
        *,
        slots: int,
        queue: int,
        wait_seconds: float,
        per_website: int,
        per_visitor: int,
        metrics: Metrics | None = None,
    ) -> None:
        self.slots = slots
        self.queue_limit = queue
        self.wait_seconds = wait_seconds
        self.per_website = max(1, min(per_website, slots))
        self.per_visitor = max(1, per_visitor)
        self.metrics = metrics
        self.active = 0
        self._by_website: Counter[str] = Counter()
        self._by_visitor: Counter[str] = Counter()  # active and queued
        self._waiting: OrderedDict[str, deque[_Waiter]] = OrderedDict()
        self._queued = 0
        self._shedding = False
        self._quiet = asyncio.Event()
        self._quiet.set()

    @property
    def queued(self) -> int:
        return self._queued

    async def acquire(self, website: str, visitor: str | None) -> Slot:
        """A slot for one answer, or Busy; the caller releases it (`Slot.release`)."""
        started = time.monotonic()
        if visitor is not None and self._by_visitor[visitor] >= self.per_visitor:
            self._refuse("visitor", "You already have answers in progress; ask again shortly.")
        if self._can_start(website):
            self._take(website, visitor)
        else:
            if self._queued >= self.queue_limit:
                self._refuse("queue_full", "The assistant is busy; ask again in a moment.")
            await self._wait(website, visitor)
        if self.metrics is not None:
            self.metrics.admission_wait.observe(time.monotonic() - started)
            self.metrics.admission.labels("admitted").inc()
        return Slot(self, website, visitor)

    async def pause_for_answers(self, longest: float = 1.0) -> None:
        """Background work (ingestion) calls this between steps: it waits while answers
        are in their costly phase or queued, for `longest` seconds at most, so that it
        still advances (one step per `longest`) under a steady stream of questions."""
        if not self._quiet.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), longest)

    def _can_start(self, website: str) -> bool:
        return (
            self.active < self.slots
            and self._by_website[website] < self.per_website
            and not self._waiting.get(website)  # no overtaking within a website
        )

    def _take(self, website: str, visitor: str | None) -> None:
        self.active += 1
        self._by_website[website] += 1
        if visitor is not None:
            self._by_visitor[visitor] += 1
        self._gauge()

    async def _wait(self, website: str, visitor: str | None) -> None:
        waiter = _Waiter(website, visitor)
        self._waiting.setdefault(website, deque()).append(waiter)
        self._queued += 1
        if visitor is not None:
            self._by_visitor[visitor] += 1
        self._gauge()
        try:
            await asyncio.wait_for(asyncio.shield(waiter.granted), self.wait_seconds)
        except TimeoutError:
            if waiter.granted.done():  # granted just as the deadline passed: keep it
                return
            self._dequeue(waiter, granted=False)
            self._refuse("deadline", "The assistant is busy; ask again in a moment.", waited=True)
        except BaseException:  # the client went away while waiting
            if waiter.granted.done():
                self._release(Slot(self, website, visitor))
            else:
                self._dequeue(waiter, granted=False)
            raise

    def _dequeue(self, waiter: _Waiter, *, granted: bool) -> None:
        queue = self._waiting.get(waiter.website)
        if queue is not None:
            with contextlib.suppress(ValueError):
                queue.remove(waiter)
            if not queue:
                del self._waiting[waiter.website]
        self._queued -= 1
        if not granted and waiter.visitor is not None:
            self._by_visitor[waiter.visitor] -= 1
        if not self._queued:
            self._shed(False)
        self._gauge()

    def _release(self, slot: Slot) -> None:
        self.active -= 1
        self._by_website[slot.website] -= 1
        if slot.visitor is not None:
            self._by_visitor[slot.visitor] -= 1
        self._dispatch()
        self._gauge()

    def _dispatch(self) -> None:
        """Hand free slots to waiters, one website after another (round robin)."""
        while self.active < self.slots and self._waiting:
            for website in list(self._waiting):
                if self._by_website[website] < self.per_website:
                    waiter = self._waiting[website][0]
                    self._waiting.move_to_end(website)  # its turn is over
                    self._dequeue(waiter, granted=True)
                    self.active += 1
                    self._by_website[website] += 1
                    waiter.granted.set_result(None)
                    break
            else:
                return  # every waiting website is at its own cap

    def _refuse(self, reason: str, message: str, *, waited: bool = False) -> None:
        self._shed(True)
        if self.metrics is not None:
            self.metrics.admission.labels(f"refused_{reason}").inc()
        retry = max(1, math.ceil(self.wait_seconds))
        raise Busy(retry, message, waited=waited)

    def _shed(self, shedding: bool) -> None:
        if shedding != self._shedding:
            self._shedding = shedding
            if shedding:
                log.warning("shedding answers", active=self.active, queued=self._queued)
            else:
                log.info("shedding stopped", active=self.active)

    def _gauge(self) -> None:
        """After every change: the metrics, and whether background work may run."""
        if self.active or self._queued:
            self._quiet.clear()
        else:
            self._quiet.set()
        if self.metrics is not None:
            self.metrics.admission_queue.set(self._queued)
            self.metrics.admission_active.set(self.active)
