"""Website and session resolvers: parse arguments, call app/, return records."""

from __future__ import annotations

from typing import Any

import asyncpg

from askbase.app.auth import sessions
from askbase.app.auth.context import Context
from askbase.app.core.pagination import Page
from askbase.app.core.validation import WebsiteCreate, WebsiteUpdate, validated
from askbase.app.tenancy import sites
from askbase.resolvers.arguments import parse_id
from askbase.resolvers.loaders import loaders


async def website(ctx: Context, website_id: str) -> asyncpg.Record | None:
    await ctx.caller()
    return await loaders(ctx).websites.load(parse_id(website_id, "id"))


async def my_websites(ctx: Context) -> list[asyncpg.Record]:
    return await sites.owned(ctx)


async def create_website(ctx: Context, data: dict[str, Any]) -> asyncpg.Record:
    await ctx.owner()
    return await sites.create(ctx, validated(WebsiteCreate, data))


async def update_website(ctx: Context, website_id: str, data: dict[str, Any]) -> asyncpg.Record:
    wid = parse_id(website_id, "id")
    await ctx.owner()
    return await sites.update(ctx, wid, validated(WebsiteUpdate, data))


async def delete_website(ctx: Context, website_id: str) -> bool:
    return await sites.delete(ctx, parse_id(website_id, "id"))


async def start_session(ctx: Context, website_id: str) -> sessions.NewSession:
    return await sessions.start(ctx, parse_id(website_id, "websiteId"))


async def website_chats(
    ctx: Context, website_id: Any, first: int | None, after: str | None
) -> Page[asyncpg.Record]:
    await ctx.owner()
    return await loaders(ctx).chat_pages.load((parse_id(website_id, "id"), first, after))
