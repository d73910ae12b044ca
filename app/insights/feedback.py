"""Ratings of answers, by the visitor who owns the chat or the website's owner.

A thumbs-down makes the question a knowledge gap (reason rated_down); rating the same
answer up again takes that reason back.
"""

from __future__ import annotations

import uuid

import asyncpg
import structlog

from askbase.app.auth.context import Context
from askbase.app.auth.tokens import Visitor
from askbase.app.core.errors import AppError, BadUserInput, Forbidden, NotFound
from askbase.app.knowledge.retrieval import embed_query
from askbase.database import feedback, gaps, messages

log = structlog.get_logger("askbase.feedback")

MAX_COMMENT_CHARS = 1000
RATINGS = ("up", "down")


def comment_text(comment: str | None) -> str | None:
    """A comment as stored: plain text, trimmed, bounded; None when empty."""
    if comment is None:
        return None
    text = comment.replace("\x00", "").strip()
    if len(text) > MAX_COMMENT_CHARS:
        raise BadUserInput(
            f"`comment` is longer than {MAX_COMMENT_CHARS} characters.", field="comment"
        )
    return text or None


async def rate(
    ctx: Context, message_id: uuid.UUID, rating: str, comment: str | None
) -> asyncpg.Record:
    if rating not in RATINGS:
        raise BadUserInput("`rating` must be UP or DOWN.", field="rating")
    text = comment_text(comment)
    caller = await ctx.caller()
    if isinstance(caller, Visitor):  # an owner is charged once the message's website is known
        await ctx.charge(caller, caller.website_id)
    async with ctx.db() as conn:
        message = await messages.by_id(conn, message_id)
    if message is None:
        raise NotFound("Message not found.")
    if not isinstance(caller, Visitor):
        await ctx.charge(caller, message["website_id"])
    if message["role"] != "assistant":
        raise Forbidden("Only the assistant's answers can be rated.")
    if message["status"] == "streaming":
        raise BadUserInput("The answer is still streaming.", field="messageId")
    async with ctx.db() as conn:
        row = await feedback.upsert(
            conn,
            message_id=message_id,
            chat_id=message["chat_id"],
            website_id=message["website_id"],
            rating=rating,
            comment=text,
        )
        question = await messages.question_of(conn, message)
    await _update_gap(ctx, message, rating, question)
    return row


async def _update_gap(
    ctx: Context, message: asyncpg.Record, rating: str, question: str | None
) -> None:
    """The rating is stored already: a gap that cannot be updated now is logged, not raised."""
    try:
        if rating == "up":
            async with ctx.service_db() as conn:
                await gaps.drop_reason(conn, message["id"], "rated_down")
            return
        if question is None:
            return
        vector = await embed_query(ctx.state.embedder, question, message["website_id"])
        async with ctx.service_db() as conn:
            await gaps.record(
                conn,
                website_id=message["website_id"],
                message_id=message["id"],
                question=question,
                embedding=vector,
                reasons=["rated_down"],
                asked_at=message["created_at"],
                threshold=ctx.state.settings.gap_similarity,
            )
    except (AppError, OSError, asyncpg.PostgresError) as error:
        log.warning(
            "knowledge gap not updated", message_id=str(message["id"]), error=type(error).__name__
        )


async def of_messages(ctx: Context, ids: list[uuid.UUID]) -> list[asyncpg.Record | None]:
    """The ratings of these messages that the caller may see, in order (None: unrated)."""
    async with ctx.db() as conn:
        rows = await feedback.by_message_ids(conn, ids)
    by_id = {r["message_id"]: r for r in rows}
    return [by_id.get(i) for i in ids]
