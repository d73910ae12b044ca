"""Console sign-in without Supabase Auth: one-time codes exchanged for an owner token.

`askbase console-link` (and `askbase serve` in development) prints
`http://HOST:PORT/console/#code=…`; the console sends the code to `redeemConsoleCode`
and gets an owner token signed with the local (or HS256) secret, as `askbase token`
mints. Only a SHA-256 of a code is stored; it lives CODE_TTL_SECONDS and signs in once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from askbase.app.auth.tokens import ISSUER, Keys, mint_owner_token
from askbase.app.core.errors import Unauthenticated
from askbase.app.core.settings import Settings
from askbase.database import console
from askbase.database.pool import Database

CODE_TTL_SECONDS = 600
SESSION_TTL_SECONDS = 12 * 3600
_CODE = re.compile(r"[A-Za-z0-9_-]{32,64}")
REFUSED = (
    "This sign-in link is not valid (it may have been used or have expired): "
    "run `askbase console-link` for a new one."
)


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    access_token: str
    expires_at: datetime


def codes_enabled(settings: Settings, keys: Keys) -> bool:
    """Whether an owner token minted here is accepted: an HS256 secret is known and owner
    tokens are not pinned to another issuer (Supabase Auth's)."""
    return keys.owner_secret is not None and settings.owner_issuer in (None, ISSUER)


def _digest(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()


async def issue_code(conn: asyncpg.Connection, user_id: uuid.UUID) -> str:
    """A new code for `user_id` (256 random bits), stored by its hash."""
    code = secrets.token_urlsafe(32)
    await console.insert_code(conn, _digest(code), user_id, CODE_TTL_SECONDS)
    return code


def console_url(settings: Settings) -> str:
    """Where the console is: PUBLIC_URL's, else this server's own address."""
    if settings.public_url:
        return settings.public_url.rstrip("/") + "/console/"
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/console/"


def sign_in_link(settings: Settings, code: str) -> str:
    return f"{console_url(settings)}#code={code}"


async def redeem(db: Database, keys: Keys, settings: Settings, code: str) -> ConsoleSession:
    """The owner token of a live code, which is used up; Unauthenticated otherwise, with
    one message whatever the reason (unknown, used, expired, or sign-in by code is off)."""
    if not codes_enabled(settings, keys) or not _CODE.fullmatch(code):
        raise Unauthenticated(REFUSED)
    async with db.service() as conn:
        user_id = await console.redeem_code(conn, _digest(code))
    if user_id is None:
        raise Unauthenticated(REFUSED)
    assert keys.owner_secret is not None
    expires = int(time.time()) + SESSION_TTL_SECONDS
    token = mint_owner_token(keys.owner_secret, user_id, SESSION_TTL_SECONDS)
    return ConsoleSession(token, datetime.fromtimestamp(expires, UTC))
