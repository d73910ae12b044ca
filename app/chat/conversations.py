"""Chats and their messages, for visitors (their own chats) and owners (all of a website)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from askbase.app.auth.context import Context, visible_website
from askbase.app.auth.tokens import Owner, Visitor
from askbase.app.core.errors import BadUserInput, Forbidden, NotFound
from askbase.app.core.pagination import Page, check_first, decode_cursor, make_page
from askbase.app.core.validation import ChatCreate, message_content, validated
from askbase.database import chats, messages


async def _require_website(ctx: Context, conn: asyncpg.Connection, website_id: uuid.UUID) -> None:
    caller = await ctx.caller()
    if isinstance(caller, Visitor):
        if caller.website_id != website_id:
            raise Forbidden("This session belongs to another website.")
        return
    await visible_website(conn, website_id)


async def require_chat(conn: asyncpg.Connection, chat_id: uuid.UUID) -> asyncpg.Record:
    found = await chats.by_ids(conn, [chat_id])
    if not found:
        raise NotFound("Chat not found.")
    return found[0]


async def create(ctx: Context, website_id: uuid.UUID, title: str | None) -> asyncpg.Record:
    data = validated(ChatCreate, {"title": title})
    caller = await ctx.caller()
    await ctx.charge(caller, website_id)  # a visitor: the website of their token
    async with ctx.db() as conn:
        await _require_website(ctx, conn, website_id)
        return await chats.insert(
            conn,
            website_id=website_id,
            visitor_id=caller.visitor_id if isinstance(caller, Visitor) else None,
            title=data.title or None,
        )


async def add_message(ctx: Context, chat_id: uuid.UUID, content: str) -> asyncpg.Record:
    text = message_content(content, ctx.state.settings.max_message_chars)
    caller = await ctx.caller()
    await charge_for_chat(ctx, caller, chat_id)
    async with ctx.db() as conn:
        chat = await require_chat(conn, chat_id)
        row = await messages.insert(
            conn, chat_id=chat_id, website_id=chat["website_id"], role="user", content=text
        )
        await chats.touch(conn, chat_id)
        return row


async def delete(ctx: Context, chat_id: uuid.UUID) -> bool:
    await ctx.caller()
    async with ctx.db() as conn:
        if not await chats.delete(conn, chat_id):
            raise NotFound("Chat not found.")
    return True


async def get(ctx: Context, chat_id: uuid.UUID) -> asyncpg.Record | None:
    await ctx.caller()
    async with ctx.db() as conn:
        found = await chats.by_ids(conn, [chat_id])
    return found[0] if found else None


async def page(
    ctx: Context, website_id: uuid.UUID, first: int | None, after: str | None
) -> Page[asyncpg.Record]:
    limit = check_first(first)
    cursor = decode_cursor(after)
    async with ctx.db() as conn:
        await _require_website(ctx, conn, website_id)
        rows = await chats.pages(conn, [website_id], limit=limit + 1, after=cursor)
    return make_page(rows, limit)


async def message_page(
    ctx: Context, chat_id: uuid.UUID, first: int | None, after: str | None
) -> Page[asyncpg.Record]:
    limit = check_first(first, default=50)
    cursor = decode_cursor(after)
    await ctx.caller()
    async with ctx.db() as conn:
        await require_chat(conn, chat_id)
        rows = await messages.pages(conn, [chat_id], limit=limit + 1, after=cursor)
    return make_page(rows, limit)


async def usage(
    ctx: Context, website_id: uuid.UUID, since: datetime | None, until: datetime | None
) -> list[asyncpg.Record]:
    """Token usage of a website's answers per model (owners only)."""
    await ctx.owner()
    if since is not None and until is not None and since >= until:
        raise BadUserInput("`from` must be before `to`.", field="from")
    async with ctx.db() as conn:
        await visible_website(conn, website_id)
        return await messages.usage_by_model(conn, website_id, since, until)


async def charge_for_chat(ctx: Context, caller: Owner | Visitor, chat_id: uuid.UUID) -> uuid.UUID:
    """The rate limits of a question, before anything is written and outside any
    transaction; returns the website it is charged to: a visitor's is in their token, an
    owner's is the chat's, looked up first (owners ask rarely, so the extra transaction is
    theirs alone). A visitor's chat of another website is refused later, by RLS."""
    if isinstance(caller, Visitor):
        website_id = caller.website_id
    else:
        async with ctx.db() as conn:
            website_id = (await require_chat(conn, chat_id))["website_id"]
    await ctx.charge(caller, website_id)
    return website_id
