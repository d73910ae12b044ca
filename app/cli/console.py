"""`askbase console-link`: a one-time sign-in link for the console (app/auth/console.py)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from askbase.app.auth import console
from askbase.app.auth.tokens import load_keys
from askbase.app.core.settings import Settings
from askbase.app.runtime.services import apply_migrations, database


class NoCodes(Exception):
    """Sign-in by code is off here: owners sign in through Supabase Auth."""


async def _issue(dsn: str, user_id: uuid.UUID) -> str:
    await apply_migrations(dsn)
    conn = await asyncpg.connect(dsn, statement_cache_size=0)
    try:
        async with conn.transaction():
            return await console.issue_code(conn, user_id)
    finally:
        await conn.close()


def console_link(settings: Settings, user_id: uuid.UUID) -> str:
    """A new sign-in link for `user_id`, valid for CODE_TTL_SECONDS, usable once."""
    if not console.codes_enabled(settings, load_keys(settings)):
        raise NoCodes
    dsn, embedded = database(settings)
    try:
        code = asyncio.run(_issue(dsn, user_id))
    finally:
        if embedded is not None:
            embedded.release()
    return console.sign_in_link(settings, code)
