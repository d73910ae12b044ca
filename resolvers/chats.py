"""Chat and message resolvers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg

from askbase.app.auth.context import Context
from askbase.app.chat import answer, conversations
from askbase.app.core.pagination import Page
from askbase.resolvers.arguments import parse_id
from askbase.resolvers.loaders import loaders


async def chat(ctx: Context, chat_id: str) -> asyncpg.Record | None:
    return await conversations.get(ctx, parse_id(chat_id, "id"))


async def chat_page(
    ctx: Context, website_id: str, first: int | None, after: str | None
) -> Page[asyncpg.Record]:
    return await conversations.page(ctx, parse_id(website_id, "websiteId"), first, after)


async def message_page(
    ctx: Context, chat_id: str, first: int | None, after: str | None
) -> Page[asyncpg.Record]:
    return await conversations.message_page(ctx, parse_id(chat_id, "chatId"), first, after)


async def chat_messages(
    ctx: Context, chat_id: Any, first: int | None, after: str | None
) -> Page[asyncpg.Record]:
    """A chat's messages as a field of Chat: batched across the chats of a response."""
    await ctx.caller()
    return await loaders(ctx).message_pages.load((parse_id(chat_id, "id"), first, after))


async def create_chat(ctx: Context, website_id: str, title: str | None) -> asyncpg.Record:
    return await conversations.create(ctx, parse_id(website_id, "websiteId"), title)


async def add_message(ctx: Context, chat_id: str, content: str) -> asyncpg.Record:
    return await conversations.add_message(ctx, parse_id(chat_id, "chatId"), content)


async def delete_chat(ctx: Context, chat_id: str) -> bool:
    return await conversations.delete(ctx, parse_id(chat_id, "id"))


def chat_stream(ctx: Context, chat_id: str, message: str) -> AsyncIterator[answer.Event]:
    return answer.stream_answer(ctx, parse_id(chat_id, "chatId"), message)


async def usage(
    ctx: Context, website_id: str, since: datetime | None, until: datetime | None
) -> list[asyncpg.Record]:
    return await conversations.usage(ctx, parse_id(website_id, "websiteId"), since, until)
