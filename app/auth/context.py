"""Per-request state for resolvers: who calls, from where, and database access as them."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from askbase.app.auth.clients import request_client
from askbase.app.auth.tokens import (
    TOKEN_LEEWAY_SECONDS,
    Anonymous,
    Owner,
    Principal,
    Visitor,
    db_role,
    origin_allowed,
)
from askbase.app.core.errors import Forbidden, NotFound, Unauthenticated
from askbase.database import websites

if TYPE_CHECKING:
    from askbase.app.runtime.state import AppState

_operation_cache: ContextVar[dict[str, Any] | None] = ContextVar("operation_cache", default=None)


def app_state(request: Request | WebSocket) -> AppState:
    """What the lifespan built, as every request and socket sees it."""
    state: AppState = request.scope["state"]["askbase"]
    return state


def begin_operation() -> None:
    """Start a fresh per-operation cache (dataloaders live there).

    Set when an operation starts; the resolver tasks that graphql-core gathers inherit it,
    so a WebSocket connection never reuses one operation's loaders for the next.
    """
    _operation_cache.set({})


def operation_cache() -> dict[str, Any]:
    cache = _operation_cache.get()
    if cache is None:
        cache = {}
        _operation_cache.set(cache)
    return cache


@dataclass
class Context:
    state: AppState
    request: Request | WebSocket
    response: Response | WebSocket | None = None
    connection_params: dict[str, Any] | None = None
    _principal: Principal | None = None
    _checked_at: float = 0.0  # when the caller was last verified (time.monotonic)
    # A visitor's website accepts only trusted documents (app/web/persisted.py).
    trusted_documents_only: bool = False

    @property
    def request_id(self) -> str:
        return str(self.request.scope.get("state", {}).get("request_id", "-"))

    @property
    def origin(self) -> str | None:
        return self.request.headers.get("origin")

    @property
    def client_ip(self) -> str:
        """The client as the rate limits count it (auth/clients.py)."""
        return request_client(self.request, self.state.settings)

    def authorization(self) -> str | None:
        if self.connection_params is not None:
            value = self.connection_params.get("authorization") or self.connection_params.get(
                "Authorization"
            )
            if value is not None:
                return str(value)
        return self.request.headers.get("authorization")

    async def principal(self) -> Principal:
        """The verified caller, resolved once per request.

        A visitor must also call from an origin that its website allows. A WebSocket
        resolves it once, at its first operation, and checks it again at every later one
        (each subscribe): the token must not have expired, and a visitor's origin must
        still be allowed.
        """
        if self._principal is None:
            principal = await self.state.verifier.principal_from_header(self.authorization())
            if isinstance(principal, Visitor):
                await self.check_origin(principal.website_id)
            self._principal = principal
            self._checked_at = time.monotonic()
        elif isinstance(self.request, WebSocket) and time.monotonic() - self._checked_at > 1:
            await self.reauthorize()
        return self._principal

    @property
    def resolved_principal(self) -> Principal | None:
        """The caller as last verified, without checking it again (None before that)."""
        return self._principal

    async def reauthorize(self) -> None:
        """Check a long-lived caller again (a WebSocket, a long answer): Unauthenticated
        once its token has expired, Forbidden once a visitor's origin is no longer
        allowed."""
        principal = self._principal
        self._checked_at = time.monotonic()
        if principal is None or isinstance(principal, Anonymous):
            return
        expires = principal.claims.get("exp")
        if isinstance(expires, int | float) and time.time() > expires + TOKEN_LEEWAY_SECONDS:
            raise Unauthenticated("Token has expired.")
        if isinstance(principal, Visitor):
            await self.check_origin(principal.website_id)

    async def check_origin(self, website_id: Any) -> None:
        async with self.service_db() as conn:
            row = await websites.access_info(conn, website_id)
        if row is None:
            raise Unauthenticated("The website of this session no longer exists.")
        self.trusted_documents_only = bool(row["trusted_only"])
        if not origin_allowed(self.origin, list(row["allowed_origins"])):
            raise Forbidden("This origin is not allowed for the website.")

    async def caller(self) -> Owner | Visitor:
        principal = await self.principal()
        if isinstance(principal, Anonymous):
            raise Unauthenticated("Sign in, or start a visitor session first.")
        return principal

    async def charge(self, caller: Owner | Visitor, website_id: uuid.UUID) -> None:
        """One hit on the client's and the website's rate limits (a visitor's: the
        website of their token). Call it outside any transaction: a PostgreSQL-backed
        limiter takes a pooled connection of its own, which a caller that holds one
        could wait for forever."""
        website = caller.website_id if isinstance(caller, Visitor) else website_id
        await self.state.limits.check(self.client_ip, str(website))

    async def owner(self) -> Owner:
        principal = await self.caller()
        if not isinstance(principal, Owner):
            raise Forbidden("Only the website owner may do this.")
        return principal

    @asynccontextmanager
    async def db(self, settings: dict[str, str] | None = None) -> AsyncIterator[asyncpg.Connection]:
        """A transaction as the caller: row-level security applies to every query in it."""
        role, claims = db_role(await self.principal())
        async with self.state.db.session(role, claims, settings) as conn:  # type: ignore[arg-type]
            yield conn

    @asynccontextmanager
    async def service_db(self) -> AsyncIterator[asyncpg.Connection]:
        """A transaction as service_role, for the few reads that precede authentication."""
        async with self.state.db.service() as conn:
            yield conn


async def visible_website(
    conn: asyncpg.Connection, website_id: uuid.UUID, *, owner_view: bool = True
) -> asyncpg.Record:
    """The website as the transaction's caller may see it (row-level security decides),
    or NotFound: another tenant's website looks exactly like one that does not exist."""
    found = await websites.by_ids(conn, [website_id], owner_view=owner_view)
    if not found:
        raise NotFound("Website not found.")
    row: asyncpg.Record = found[0]
    return row
