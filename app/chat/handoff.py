"""A human when needed: a visitor asks for a person, the owner takes the chat over and
replies in it, and both see the chat's activity live.

A chat's hand-off is NONE, REQUESTED or TAKEN_OVER. While it is taken over, chatStream
stores the visitor's question and does not answer it (app/chat/answer.py), until the
owner releases the chat. Changes are announced with NOTIFY by database triggers
(010_handoff.sql); a watcher then reads what changed as its caller, so row-level security
decides what it sees. Behind a transaction-mode pooler (no LISTEN) watchers poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from askbase.app.auth.context import Context, visible_website
from askbase.app.chat.conversations import charge_for_chat, require_chat
from askbase.app.chat.webhooks import Delivery
from askbase.app.core.errors import BadUserInput, NotFound
from askbase.app.core.validation import message_content
from askbase.database import chats, handoff, messages

MAX_NOTE_CHARS = 500
MAX_REPLAY = timedelta(hours=24)  # how far back websiteEvents(since) replays
WEBSITE_BATCH = 200  # rows read per look at a website's chats
# What chatStream says instead of an answer while a person handles the chat.
HUMAN_HANDLING = "HUMAN_HANDLING"
HANDLED_MESSAGE = "A person from the website's team is handling this chat and will reply here."


@dataclass(frozen=True, slots=True)
class MessageAdded:
    message: asyncpg.Record


@dataclass(frozen=True, slots=True)
class HandoffChanged:
    chat: asyncpg.Record


@dataclass(frozen=True, slots=True)
class ChatStarted:
    chat: asyncpg.Record


@dataclass(frozen=True, slots=True)
class HumanRequested:
    chat: asyncpg.Record


def note_text(note: str | None) -> str | None:
    if note is None:
        return None
    text = note.replace("\x00", "").strip()
    if len(text) > MAX_NOTE_CHARS:
        raise BadUserInput(f"`note` is longer than {MAX_NOTE_CHARS} characters.", field="note")
    return text or None


async def request_human(ctx: Context, chat_id: uuid.UUID, note: str | None) -> asyncpg.Record:
    """The visitor who owns the chat, or the owner, asks for a person. The state is set
    by the service (visitors may not write it: 010_handoff.sql) once row-level security
    has shown the chat to the caller."""
    text = note_text(note)
    caller = await ctx.caller()
    await charge_for_chat(ctx, caller, chat_id)
    async with ctx.db() as conn:
        await require_chat(conn, chat_id)
    async with ctx.service_db() as conn:
        row, newly = await handoff.request(conn, chat_id, text)
        hook = await handoff.webhook(conn, row["website_id"]) if row and newly else None
    if row is None:
        raise NotFound("Chat not found.")
    if hook is not None:
        ctx.state.webhooks.send(
            Delivery(
                website_id=row["website_id"],
                chat_id=chat_id,
                url=hook["url"],
                secret=hook["secret"],
                payload={
                    "websiteId": str(row["website_id"]),
                    "chatId": str(chat_id),
                    "note": row["handoff_note"],
                    "requestedAt": row["handoff_requested_at"].isoformat(),
                },
            )
        )
    return row


async def take_over(ctx: Context, chat_id: uuid.UUID) -> asyncpg.Record:
    await ctx.owner()
    async with ctx.db() as conn:
        row = await handoff.take_over(conn, chat_id)
    if row is None:
        raise NotFound("Chat not found.")
    return row


async def release(ctx: Context, chat_id: uuid.UUID) -> asyncpg.Record:
    await ctx.owner()
    async with ctx.db() as conn:
        row = await handoff.release(conn, chat_id)
    if row is None:
        raise NotFound("Chat not found.")
    return row


async def reply(ctx: Context, chat_id: uuid.UUID, content: str) -> asyncpg.Record:
    """The owner writes in the chat, as the website's team (role OWNER)."""
    text = message_content(content, ctx.state.settings.max_message_chars)
    owner = await ctx.owner()
    await charge_for_chat(ctx, owner, chat_id)
    async with ctx.db() as conn:
        chat = await require_chat(conn, chat_id)
        row = await messages.insert(
            conn, chat_id=chat_id, website_id=chat["website_id"], role="owner", content=text
        )
        await chats.touch(conn, chat_id)
    return row


async def _wake(ctx: Context, queue: asyncio.Queue[None]) -> None:
    """Until something happened (or it is time to look again anyway), then check that
    the caller's token is still valid."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(queue.get(), timeout=ctx.state.events.recheck_seconds)
    await ctx.reauthorize()


async def chat_activity(
    ctx: Context, chat_id: uuid.UUID
) -> AsyncIterator[MessageAdded | HandoffChanged]:
    """The chat's hand-off state now, then every message finished in it and every change
    of its hand-off state, for the visitor who owns it or the owner."""
    await ctx.caller()
    async with ctx.state.events.chat_activity(chat_id) as wake:
        async with ctx.db() as conn:
            chat = await require_chat(conn, chat_id)
            since = await handoff.look_back(conn, chat_id)
            seen = {
                r["id"]: r["created_at"]
                for r in await handoff.finished_messages(conn, chat_id, since)
            }
        state = chat["handoff"]
        yield HandoffChanged(chat)
        while True:
            await _wake(ctx, wake)
            async with ctx.db() as conn:
                found = await chats.by_ids(conn, [chat_id])
                if not found:
                    raise NotFound("The chat was deleted.")
                rows = await handoff.finished_messages(conn, chat_id, since)
                later = await handoff.look_back(conn, chat_id)
            for row in rows:
                if row["id"] not in seen:
                    seen[row["id"]] = row["created_at"]
                    yield MessageAdded(row)
            if found[0]["handoff"] != state:
                state = found[0]["handoff"]
                yield HandoffChanged(found[0])
            since = max(since, later)
            seen = {k: at for k, at in seen.items() if at >= since}


async def website_activity(
    ctx: Context, website_id: uuid.UUID, since: datetime | None
) -> AsyncIterator[ChatStarted | HumanRequested]:
    """New chats and requests for a person on the owner's website: those since `since`
    (at most MAX_REPLAY back; default: now), then live."""
    await ctx.owner()
    async with ctx.state.events.chat_activity(website_id) as wake:
        async with ctx.db() as conn:
            await visible_website(conn, website_id)
            now = await handoff.now(conn)
        floor = now if since is None else max(since, now - MAX_REPLAY)
        seen: set[tuple[str, uuid.UUID, datetime]] = set()
        first = True
        while True:
            if not first:
                await _wake(ctx, wake)
            first = False
            async with ctx.db() as conn:
                rows = await handoff.website_activity(conn, website_id, floor, WEBSITE_BATCH)
                later = await handoff.look_back(conn)
            happened: list[tuple[datetime, str, asyncpg.Record]] = []
            for row in rows:
                if row["created_at"] >= floor:
                    happened.append((row["created_at"], "started", row))
                requested = row["handoff_requested_at"]
                if requested is not None and requested >= floor:
                    happened.append((requested, "requested", row))
            for at, kind, row in sorted(happened, key=lambda h: (h[0], h[1] == "requested")):
                key = (kind, row["id"], at)
                if key in seen:
                    continue
                seen.add(key)
                yield ChatStarted(row) if kind == "started" else HumanRequested(row)
            floor = max(floor, later)
            seen = {k for k in seen if k[2] >= floor}
