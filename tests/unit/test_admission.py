"""Admission control for answers (app/chat/admission.py), in a plain event loop."""

from __future__ import annotations

import asyncio

import pytest

from askbase.app.chat.admission import Admission, Busy


def admission(**overrides: float) -> Admission:
    options = {"slots": 2, "queue": 4, "wait_seconds": 0.5, "per_website": 2, "per_visitor": 2}
    options.update(overrides)
    return Admission(**{k: (v if k == "wait_seconds" else int(v)) for k, v in options.items()})  # type: ignore[arg-type]


def test_answers_past_the_slots_wait_and_past_the_queue_are_refused_at_once() -> None:
    async def run() -> None:
        gate = admission(slots=1, queue=1)
        first = await gate.acquire("a", None)
        waiting = asyncio.ensure_future(gate.acquire("a", None))
        await asyncio.sleep(0)
        assert gate.queued == 1
        with pytest.raises(Busy) as refused:
            await gate.acquire("a", None)
        assert not refused.value.waited and refused.value.extensions["retryAfter"] == 1
        first.release()
        second = await waiting  # the freed slot goes to the waiter
        assert gate.active == 1 and gate.queued == 0
        second.release()
        assert gate.active == 0

    asyncio.run(run())


def test_a_waiter_past_its_deadline_is_refused_and_leaves_no_trace() -> None:
    async def run() -> None:
        gate = admission(slots=1, wait_seconds=0.05)
        held = await gate.acquire("a", "visitor-1")
        with pytest.raises(Busy) as refused:
            await gate.acquire("a", "visitor-2")
        assert refused.value.waited
        assert gate.queued == 0 and gate.active == 1
        held.release()
        held.release()  # idempotent
        assert gate.active == 0

    asyncio.run(run())


def test_a_busy_website_waits_behind_itself_not_in_front_of_others() -> None:
    async def run() -> None:
        gate = admission(slots=2, queue=10, per_website=1, wait_seconds=5)
        busy = await gate.acquire("busy", None)
        later = [asyncio.ensure_future(gate.acquire("busy", None)) for _ in range(3)]
        await asyncio.sleep(0)
        quiet = await asyncio.wait_for(gate.acquire("quiet", None), 0.1)  # not queued
        assert gate.queued == 3
        order: list[str] = []
        quiet_again = asyncio.ensure_future(gate.acquire("quiet", None))
        await asyncio.sleep(0)
        quiet.release()
        got = await quiet_again
        order.append(got.website)
        busy.release()
        got_busy = await later[0]
        order.append(got_busy.website)
        assert order == ["quiet", "busy"]
        for slot in (got, got_busy):
            slot.release()
        for task in later[1:]:
            (await task).release()
        assert gate.active == 0 and gate.queued == 0

    asyncio.run(run())


def test_one_visitor_cannot_hold_more_than_their_share() -> None:
    async def run() -> None:
        gate = admission(slots=4, per_visitor=1)
        mine = await gate.acquire("a", "visitor")
        with pytest.raises(Busy):
            await gate.acquire("a", "visitor")
        other = await gate.acquire("a", "someone-else")
        mine.release()
        again = await gate.acquire("a", "visitor")
        for slot in (other, again):
            slot.release()

    asyncio.run(run())


def test_ingestion_pauses_while_answers_queue() -> None:
    async def run() -> None:
        gate = admission(slots=1, wait_seconds=5)
        await asyncio.wait_for(gate.pause_for_answers(), 0.05)  # no answers: no pause
        held = await gate.acquire("a", None)
        waiting = asyncio.ensure_future(gate.acquire("a", None))
        await asyncio.sleep(0)
        paused = asyncio.ensure_future(gate.pause_for_answers(longest=5))
        await asyncio.sleep(0.05)
        assert not paused.done()
        held.release()
        (await waiting).release()
        await asyncio.wait_for(paused, 0.5)

    asyncio.run(run())


def test_a_burst_is_refused_fast_within_the_bound() -> None:
    async def run() -> None:
        gate = admission(slots=2, queue=8, wait_seconds=5)
        held = [await gate.acquire("a", None), await gate.acquire("b", None)]
        attempts = [asyncio.ensure_future(gate.acquire(f"w{i % 5}", None)) for i in range(1000)]
        await asyncio.sleep(0)
        refused = [t for t in attempts if t.done() and isinstance(t.exception(), Busy)]
        assert len(refused) == 1000 - 8 and gate.queued == 8
        for slot in held:
            slot.release()
        waiting = [t for t in attempts if not t.done()]
        for next_one in asyncio.as_completed(waiting, timeout=2):
            (await next_one).release()  # each release lets the next waiter in
        assert gate.active == 0 and gate.queued == 0

    asyncio.run(run())
