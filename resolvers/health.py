"""The `health` query: process up, database reachable, version."""

from __future__ import annotations

from askbase.app.auth.context import Context


async def health(ctx: Context) -> tuple[bool, bool, str]:
    database = await ctx.state.db.ping(wait_seconds=2.0)
    return True, database, ctx.state.version
