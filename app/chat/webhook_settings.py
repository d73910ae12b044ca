"""The owner's hand-off webhook: its URL, its signing secret, and its delivery log."""

from __future__ import annotations

import uuid

import asyncpg

from askbase.app.auth.context import Context, visible_website
from askbase.app.chat.webhooks import new_secret
from askbase.app.core.errors import BadUserInput
from askbase.app.core.pagination import check_first
from askbase.app.knowledge.sources.fetch import Refused
from askbase.database import handoff

MAX_URL_CHARS = 2048


async def get(ctx: Context, website_id: uuid.UUID) -> asyncpg.Record | None:
    await ctx.owner()
    async with ctx.db() as conn:
        await visible_website(conn, website_id)
        return await handoff.webhook(conn, website_id)


async def put(
    ctx: Context, website_id: uuid.UUID, url: str | None, rotate_secret: bool
) -> asyncpg.Record | None:
    """Set the webhook's URL (a new webhook gets a new secret; `rotate_secret` replaces
    it), or remove the webhook when `url` is null or empty. The URL is checked as every
    server-side fetch is: a private or reserved address is refused unless allow-listed."""
    await ctx.owner()
    address = (url or "").strip()
    if len(address) > MAX_URL_CHARS:
        raise BadUserInput(f"`url` is longer than {MAX_URL_CHARS} characters.", field="url")
    if address:
        try:
            await ctx.state.webhooks.guard.address(address)  # resolves and checks only
        except Refused as refused:
            raise BadUserInput(f"`url` cannot be called: {refused}.", field="url") from None
    async with ctx.db() as conn:
        await visible_website(conn, website_id)
        if not address:
            await handoff.delete_webhook(conn, website_id)
            return None
        return await handoff.set_webhook(conn, website_id, address, new_secret(), rotate_secret)


async def deliveries(
    ctx: Context, website_id: uuid.UUID, first: int | None
) -> list[asyncpg.Record]:
    """The latest delivery attempts, newest first."""
    limit = check_first(first)
    await ctx.owner()
    async with ctx.db() as conn:
        await visible_website(conn, website_id)
        return await handoff.deliveries(conn, website_id, limit)
