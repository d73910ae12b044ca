"""Hand-off resolvers: asking for a person, taking chats over, live chat activity, the
website's webhook and its delivery log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg

from askbase.app.auth.context import Context
from askbase.app.chat import handoff, webhook_settings
from askbase.resolvers.arguments import parse_id


async def request_human(ctx: Context, chat_id: str, note: str | None) -> asyncpg.Record:
    return await handoff.request_human(ctx, parse_id(chat_id, "chatId"), note)


async def take_over(ctx: Context, chat_id: str) -> asyncpg.Record:
    return await handoff.take_over(ctx, parse_id(chat_id, "chatId"))


async def release(ctx: Context, chat_id: str) -> asyncpg.Record:
    return await handoff.release(ctx, parse_id(chat_id, "chatId"))


async def reply(ctx: Context, chat_id: str, content: str) -> asyncpg.Record:
    return await handoff.reply(ctx, parse_id(chat_id, "chatId"), content)


def chat_events(
    ctx: Context, chat_id: str
) -> AsyncIterator[handoff.MessageAdded | handoff.HandoffChanged]:
    return handoff.chat_activity(ctx, parse_id(chat_id, "chatId"))


def website_events(
    ctx: Context, website_id: str, since: datetime | None
) -> AsyncIterator[handoff.ChatStarted | handoff.HumanRequested]:
    return handoff.website_activity(ctx, parse_id(website_id, "websiteId"), since)


async def webhook(ctx: Context, website_id: str) -> asyncpg.Record | None:
    return await webhook_settings.get(ctx, parse_id(website_id, "websiteId"))


async def set_webhook(
    ctx: Context, website_id: str, url: str | None, rotate_secret: bool
) -> asyncpg.Record | None:
    return await webhook_settings.put(ctx, parse_id(website_id, "websiteId"), url, rotate_secret)


async def deliveries(ctx: Context, website_id: str, first: int | None) -> list[asyncpg.Record]:
    return await webhook_settings.deliveries(ctx, parse_id(website_id, "websiteId"), first)
