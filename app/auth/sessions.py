"""Visitor sessions for the widget: a short-lived token scoped to one website."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from askbase.app.auth.context import Context, visible_website
from askbase.app.auth.tokens import Visitor, mint_visitor_token, origin_allowed
from askbase.app.core.errors import Forbidden


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str
    visitor_id: uuid.UUID
    expires_at: datetime
    website: asyncpg.Record


async def start(ctx: Context, website_id: uuid.UUID) -> NewSession:
    """Anyone may start a session, but only from an origin the website allows.

    A caller without an Origin header (a server) is allowed only by "*". A visitor who
    sends their still-valid token for the same website renews it: the new token keeps the
    visitor id, so the widget keeps the visitor's chats past the first token's lifetime.
    """
    principal = await ctx.principal()  # a token that is sent must still be valid
    await ctx.state.limits.check(ctx.client_ip, str(website_id))
    async with ctx.service_db() as conn:
        website = await visible_website(conn, website_id, owner_view=False)
    if not origin_allowed(ctx.origin, list(website["allowed_origins"])):
        raise Forbidden("This origin is not allowed for the website.")
    renewing = isinstance(principal, Visitor) and principal.website_id == website_id
    visitor_id = (
        principal.visitor_id if isinstance(principal, Visitor) and renewing else uuid.uuid4()
    )
    token, expires_at = mint_visitor_token(
        ctx.state.keys, website_id, visitor_id, ctx.state.settings.session_ttl_seconds
    )
    return NewSession(token=token, visitor_id=visitor_id, expires_at=expires_at, website=website)
