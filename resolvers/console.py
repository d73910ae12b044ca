"""The console's sign-in by one-time code."""

from __future__ import annotations

from askbase.app.auth import console
from askbase.app.auth.context import Context

# The rate limits' second bucket: all code redemptions share one, beside the client's own.
_BUCKET = "console-sign-in"


async def redeem_console_code(ctx: Context, code: str) -> console.ConsoleSession:
    state = ctx.state
    await state.limits.check(ctx.client_ip, _BUCKET)
    return await console.redeem(state.db, state.keys, state.settings, code)
