"""One answer, streamed: checks, the user message, retrieval, the model, the stored result.

Everything that can refuse (auth, origin, rate limits, message length, a chat that is not
the caller's) happens before the first event. Then the user message and an empty
assistant message (STREAMING) are stored in one transaction, and the assistant message is
finalized in `finally`: COMPLETE with its usage, or INCOMPLETE with the text streamed so
far when the model fails mid-answer or the client goes away, or FAILED when nothing was
streamed. It is written once, so it is never lost and never duplicated. In a chat that
the website's team has taken over (app/chat/handoff.py), the question is stored and not
answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import numpy as np
import numpy.typing as npt
import structlog

from askbase.app.auth.context import Context
from askbase.app.auth.tokens import Visitor
from askbase.app.chat.admission import Busy, Slot
from askbase.app.chat.confidence import assess
from askbase.app.chat.conversations import charge_for_chat, require_chat
from askbase.app.chat.handoff import HANDLED_MESSAGE, HUMAN_HANDLING
from askbase.app.chat.models import (
    CHARS_PER_TOKEN,
    AnswerRequest,
    ChatModel,
    Delta,
    ExtractiveAnswerer,
    LlamaCppChat,
    LLMError,
    OpenAIChat,
    Passage,
    TokenUsage,
    Turn,
)
from askbase.app.core.errors import AppError
from askbase.app.core.settings import Settings
from askbase.app.core.validation import message_content
from askbase.app.knowledge.retrieval import Hit, Tuning, embed_query, hybrid_hits
from askbase.database import chats, gaps, messages, search, websites

log = structlog.get_logger("askbase.answer")

DEFAULT_SYSTEM_PROMPT = (
    "You are the assistant of this website. Answer the visitor's question from the "
    "numbered sources below, and cite the sources you use like [1] or [2]. If the "
    "sources do not contain the answer, say that you don't know; never invent facts. "
    "Be concise."
)
NOTHING_FOUND = (
    "I don't know: I couldn't find anything about this in the documents I have. "
    "Try rephrasing the question, or ask about something the site covers."
)


@dataclass(frozen=True, slots=True)
class SourcesEvent:
    message_id: uuid.UUID
    hits: list[Hit]


@dataclass(frozen=True, slots=True)
class TokenEvent:
    message_id: uuid.UUID
    text: str


@dataclass(frozen=True, slots=True)
class DoneEvent:
    message: asyncpg.Record


@dataclass(frozen=True, slots=True)
class FailedEvent:
    message_id: uuid.UUID | None
    code: str
    message: str
    retry_after: int | None = None  # seconds, when asking again may succeed


Event = SourcesEvent | TokenEvent | DoneEvent | FailedEvent


@dataclass(frozen=True, slots=True)
class Question:
    """What a knowledge gap needs of the question: its vector, once it is embedded."""

    website_id: uuid.UUID
    text: str
    vector: npt.NDArray[np.float32] | None
    asked_at: datetime


def build_model(settings: Settings) -> ChatModel:
    if settings.llm_kind == "extractive":
        return ExtractiveAnswerer()
    if settings.llm_kind == "local":
        assert settings.llm_model_path is not None  # checked with the settings
        return LlamaCppChat(str(settings.llm_model_path))
    key = settings.llm_api_key or settings.openai_api_key
    return OpenAIChat(
        model=settings.llm_model,
        api_key=key.get_secret_value() if key else None,
        base_url=settings.llm_base_url or settings.openai_base_url,
        timeout=settings.llm_timeout_seconds,
        first_token_timeout=settings.llm_first_token_seconds,
        max_retries=settings.llm_max_retries,
    )


def source_json(hit: Hit) -> dict[str, object]:
    return {
        "documentId": str(hit.document_id),
        "chunkId": str(hit.chunk_id),
        "title": hit.title,
        "snippet": hit.snippet,
        "score": hit.score,
        "url": hit.url,
    }


def history_turns(rows: Sequence[asyncpg.Record], budget_tokens: int) -> list[Turn]:
    """The most recent finished turns that fit the budget, oldest first."""
    turns: list[Turn] = []
    used = 0
    for row in reversed(rows):
        if row["role"] not in ("user", "assistant") or not row["content"]:
            continue
        cost = len(row["content"]) // CHARS_PER_TOKEN + 4
        if used + cost > budget_tokens:
            break
        turns.insert(0, Turn(row["role"], row["content"]))
        used += cost
    return turns


def answer_request(
    site: asyncpg.Record,
    hits: Sequence[Hit],
    earlier: Sequence[asyncpg.Record],
    question: str,
    settings: Settings,
) -> AnswerRequest:
    passages = [Passage(i, h.title, h.content) for i, h in enumerate(hits, 1)]
    return AnswerRequest(
        turns=[
            Turn("system", system_prompt(site["system_prompt"], passages)),
            *history_turns(earlier, settings.history_tokens),
            Turn("user", question),
        ],
        passages=passages,
        question=question,
        # A model the operator no longer allows (LLM_ALLOWED_MODELS) falls back to theirs.
        model=site["model"] if site["model"] in settings.allowed_models else None,
        temperature=site["temperature"],
        max_tokens=settings.llm_max_tokens,
    )


def system_prompt(custom: str | None, passages: Sequence[Passage]) -> str:
    sources = "\n\n".join(f"[{p.number}] {p.title}\n{p.content}" for p in passages)
    return f"{custom or DEFAULT_SYSTEM_PROMPT}\n\nSources:\n\n{sources}"


async def stream_answer(ctx: Context, chat_id: uuid.UUID, message: str) -> AsyncIterator[Event]:
    state = ctx.state
    started = time.perf_counter()
    text = message_content(message, state.settings.max_message_chars)
    caller = await ctx.caller()
    charged = await charge_for_chat(ctx, caller, chat_id)
    visitor = str(caller.visitor_id) if isinstance(caller, Visitor) else None
    try:  # a slot until the first token (app/chat/admission.py); nothing is written before
        slot = await state.admission.acquire(str(charged), visitor)
    except Busy as busy:
        if not busy.waited:
            raise  # refused at once: the subscription fails with UNAVAILABLE, retryAfter
        yield FailedEvent(None, busy.code, busy.message, busy.retry_after)
        return
    try:
        async for event in _answer(ctx, chat_id, text, charged, started, slot):
            yield event
    finally:
        slot.release()


async def _answer(
    ctx: Context,
    chat_id: uuid.UUID,
    text: str,
    charged: uuid.UUID,
    started: float,
    slot: Slot,
) -> AsyncIterator[Event]:
    state = ctx.state
    settings = state.settings
    metrics = state.metrics
    # The question is embedded (in a thread) while its rows are written.
    embedding = asyncio.ensure_future(embed_query(state.embedder, text, charged))
    embedding.add_done_callback(_retrieve)
    try:
        async with ctx.db() as conn:
            chat = await require_chat(conn, chat_id)
            website_id: uuid.UUID = chat["website_id"]
            earlier = await messages.recent(conn, chat_id, 20)
            await messages.insert(
                conn, chat_id=chat_id, website_id=website_id, role="user", content=text
            )
            # A chat taken over is answered by a person of the website (app/chat/handoff.py).
            handled = chat["handoff"] == "taken_over"
            assistant = None
            if not handled:
                assistant = await messages.insert(
                    conn,
                    chat_id=chat_id,
                    website_id=website_id,
                    role="assistant",
                    content="",
                    status="streaming",
                )
            await chats.touch(conn, chat_id)
        if assistant is not None:
            async with ctx.service_db() as conn:  # model settings are owner-only columns
                site = (await websites.by_ids(conn, [website_id], owner_view=True))[0]
    except BaseException:
        embedding.cancel()
        raise
    if assistant is None:
        embedding.cancel()
        yield FailedEvent(None, HUMAN_HANDLING, HANDLED_MESSAGE)
        return

    message_id: uuid.UUID = assistant["id"]
    received: list[str] = []
    hits: list[Hit] = []
    usage: TokenUsage | None = None
    status = "failed"
    question = Question(website_id, text, None, assistant["created_at"])
    try:
        vector = await embedding
        question = Question(website_id, text, vector, assistant["created_at"])
        async with ctx.db(search.HNSW_SETTINGS) as conn:
            found_hits = await hybrid_hits(
                conn, website_id, vector, text, settings.answer_sources, Tuning.of(settings)
            )
        hits = [
            h
            for h in found_hits
            if h.similarity is None or h.similarity >= settings.answer_min_similarity
        ]
        yield SourcesEvent(message_id, hits)
        recheck_at = time.monotonic() + settings.auth_recheck_seconds
        if hits:
            model = state.chat_model
            stream = model.stream(answer_request(site, hits, earlier, text, settings))
            async for batch in coalesced(stream) if model.coalesce else one_by_one(stream):
                for item in batch:
                    if isinstance(item, TokenUsage):
                        usage = item
                deltas = "".join(item.text for item in batch if isinstance(item, Delta))
                if deltas:
                    if not received:
                        metrics.first_token_seconds.observe(time.perf_counter() - started)
                        slot.release()  # the costly part is over: the next answer may start
                    received.append(deltas)
                    yield TokenEvent(message_id, deltas)
                if time.monotonic() >= recheck_at:  # a long answer: is the caller still ok?
                    await ctx.reauthorize()
                    recheck_at = time.monotonic() + settings.auth_recheck_seconds
        else:  # nothing relevant: say so instead of letting a model guess
            async for item in ExtractiveAnswerer().say(NOTHING_FOUND):
                if not received:
                    metrics.first_token_seconds.observe(time.perf_counter() - started)
                    slot.release()
                received.append(item.text)
                yield TokenEvent(message_id, item.text)
        status = "complete"
    except LLMError as error:
        status = "incomplete" if received else "failed"
        log.warning("answer failed", code=error.code, message_id=str(message_id))
        metrics.llm_errors.labels(error.code).inc()
        yield FailedEvent(message_id, error.code, error.message)
    except AppError as error:
        status = "incomplete" if received else "failed"
        yield FailedEvent(message_id, error.code, str(error))
    except BaseException:
        # The client completed the subscription or went away (cancellation), or a bug:
        # keep what was streamed, and let the error go on.
        cancelled = not isinstance(sys.exc_info()[1], Exception)
        status = "incomplete" if received or cancelled else "failed"
        raise
    finally:
        final = await asyncio.shield(
            _finalize(ctx, message_id, "".join(received), status, hits, usage, question)
        )
        metrics.answers.labels(status).inc()
        if usage is not None:
            metrics.tokens.labels(usage.model).inc(usage.completion_tokens)
    if status == "complete":
        if final is not None:
            yield DoneEvent(final)
        else:  # the chat was deleted while the answer streamed: nothing left to show
            yield FailedEvent(message_id, "NOT_FOUND", "The chat was deleted.")


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Mark a background task's error as seen: it is raised where the task is awaited, or
    the task was abandoned because the answer was refused first."""
    if not task.cancelled():
        task.exception()


async def one_by_one(
    stream: AsyncIterator[Delta | TokenUsage],
) -> AsyncIterator[list[Delta | TokenUsage]]:
    async for item in stream:
        yield [item]


async def coalesced(
    stream: AsyncIterator[Delta | TokenUsage],
) -> AsyncIterator[list[Delta | TokenUsage]]:
    """The model's output in batches: everything that arrived while the previous batch
    was being sent. A fast model and a slow client make few large TokenDeltas instead of a
    backlog of tiny ones; a slow model still gives one delta per event. Nothing is lost,
    and closing this generator cancels the model request at once.
    """
    queue: asyncio.Queue[Delta | TokenUsage | BaseException | None] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for item in stream:
                queue.put_nowait(item)
            queue.put_nowait(None)
        except Exception as error:  # handed to the consumer, raised there
            queue.put_nowait(error)

    task = asyncio.create_task(pump())
    try:
        while True:
            batch = [await queue.get()]
            while not queue.empty() and not isinstance(batch[-1], BaseException | None):
                batch.append(queue.get_nowait())
            last = batch[-1]
            items = [b for b in batch if isinstance(b, Delta | TokenUsage)]
            if items:
                yield items
            if isinstance(last, BaseException):
                raise last
            if last is None:
                return
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _finalize(
    ctx: Context,
    message_id: uuid.UUID,
    content: str,
    status: str,
    hits: list[Hit],
    usage: TokenUsage | None,
    question: Question,
) -> asyncpg.Record | None:
    usage_json = (
        {
            "model": usage.model,
            "promptTokens": usage.prompt_tokens,
            "completionTokens": usage.completion_tokens,
            "totalTokens": usage.total_tokens,
        }
        if usage is not None
        else None
    )
    settings = ctx.state.settings
    verdict = assess(hits, content, settings.answer_min_similarity)
    async with ctx.service_db() as conn:
        row = await messages.finalize(
            conn,
            message_id,
            content=content,
            status=status,
            sources=[source_json(h) for h in hits],
            usage=usage_json,
            confidence=verdict.confidence if status == "complete" else None,
            declined=verdict.declined and status == "complete",
        )
        # A finished answer that did not answer well is a knowledge gap (issue 15).
        gap = row is not None and status == "complete" and verdict.reasons
        if gap and question.vector is not None:
            await conn.execute("savepoint knowledge_gap")  # the answer is kept if this fails
            try:
                await gaps.record(
                    conn,
                    website_id=question.website_id,
                    message_id=message_id,
                    question=question.text,
                    embedding=question.vector,
                    reasons=list(verdict.reasons),
                    asked_at=question.asked_at,
                    threshold=settings.gap_similarity,
                )
            except (asyncpg.PostgresError, ValueError, TypeError) as error:
                await conn.execute("rollback to savepoint knowledge_gap")
                log.warning("knowledge gap not recorded", error=type(error).__name__)
        return row
