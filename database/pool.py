"""The connection pool and request-scoped transactions under row-level security."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Literal, cast

import asyncpg
from pgvector.asyncpg import register_vector

from askbase.database.preflight import DatabaseSetupError, vector_schema

DbRole = Literal["anon", "authenticated", "service_role"]
PoolMode = Literal["session", "transaction"]

# What asyncpg raises when its prepared statements meet a transaction-mode pooler (the
# logs add POOLER_HINT to any error of these kinds).
POOLER_ERRORS = (
    asyncpg.exceptions.InvalidSQLStatementNameError,
    asyncpg.exceptions.DuplicatePreparedStatementError,
)
POOLER_HINT = (
    "a prepared statement was lost: DATABASE_URL looks like a transaction-mode pooler "
    "(PgBouncer, Supabase's port 6543); set DATABASE_POOL_MODE=transaction"
)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    # pgvector lives in `extensions` on Supabase and in `public` elsewhere.
    schema = await vector_schema(conn)
    if schema is None:
        raise DatabaseSetupError("pgvector is not installed in this database: run askbase migrate")
    await register_vector(conn, schema=schema)


async def _release(conn: asyncpg.Connection) -> None:
    """Run when a connection goes back to the pool, instead of asyncpg's reset query
    (`RESET ALL`, `UNLISTEN *` and more: one more round trip per transaction). A
    transaction of `Database.session` has reset the settings in its commit or rollback
    already; asyncpg itself rolls back anything else left open. LISTEN runs on a
    connection of its own, and advisory locks are transaction-level."""


async def create_pool(
    dsn: str,
    *,
    min_size: int,
    max_size: int,
    mode: PoolMode = "session",
    on_connect: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
) -> asyncpg.Pool:
    """`mode="transaction"` behind a transaction-mode pooler (DATABASE_POOL_MODE): a
    server connection is ours for one transaction only, so no statement is kept prepared
    across transactions. Nothing else differs: pooled connections carry no session state
    in either mode. `on_connect` runs once on each new connection."""

    async def init(conn: asyncpg.Connection) -> None:
        await _init_connection(conn)
        if on_connect is not None:
            await on_connect(conn)

    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init,
        reset=_release,
        statement_cache_size=0 if mode == "transaction" else 100,
        command_timeout=30,
    )
    assert pool is not None
    return pool


SERVICE_CLAIMS = {"role": "service_role"}
# Past this, waiting for a pooled connection is an outage (TimeoutError: UNAVAILABLE),
# never a request that hangs.
ACQUIRE_TIMEOUT_SECONDS = 10.0
# Every setting back to the session's defaults (the role and claims among them), in the
# same round trip as the commit or rollback.
SESSION_RESET = "reset all; reset role"  # RESET ALL leaves the role as it is


def _literal(value: str) -> str:
    """A string constant for a simple-protocol statement, whatever standard_conforming_strings
    says: an escape string with backslashes and quotes doubled. Values are our own setting
    names and values and JSON claims, which never hold a NUL byte."""
    if "\x00" in value:
        raise ValueError("a setting cannot hold a NUL byte")
    return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


async def _roll_back(conn: asyncpg.Connection) -> None:
    """End a failed or cancelled request's transaction ourselves, so that asyncpg's own
    release finds none (it would log "Resetting connection with an active transaction").
    A query cancelled mid-flight is waited for first, as asyncpg's release does (at most
    ACQUIRE_TIMEOUT_SECONDS). A connection that cannot roll back (the database went away)
    is closed for good, and so is one whose rollback is itself cancelled: graphql-core
    cancels a failed field's siblings, and again when an enclosing field fails, so a
    second cancellation can land while the first one's statement is still being waited
    for. Closing the socket ends the transaction on the server at once; the pool replaces
    the connection."""
    try:
        protocol = getattr(conn, "_protocol", None)
        if protocol is not None and protocol._is_cancelling():
            await protocol._wait_for_cancellation(ACQUIRE_TIMEOUT_SECONDS)
        if not conn.is_closed():
            await conn.execute(f"rollback; {SESSION_RESET}")
    except BaseException as error:  # its state is unknown now, or we may not wait for it
        conn.terminate()
        if not isinstance(error, Exception):  # a cancellation goes on; a failure is replaced
            raise


class Database:
    """Owns the pool; hands out transactions that run as a Supabase role with JWT claims."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.transactions = 0  # request-scoped transactions opened, for metrics

    @asynccontextmanager
    async def session(
        self,
        role: DbRole,
        claims: Mapping[str, Any],
        settings: Mapping[str, str] | None = None,
    ) -> AsyncIterator[asyncpg.Connection]:
        """A transaction in which `role` and `request.jwt.claims` are set locally.

        Row-level security policies see the claims through auth.uid() / auth.jwt(), so a
        query that forgets a tenant filter still cannot read another tenant's rows.
        `settings` are further transaction-local settings, set in the same round trip.
        """
        local = {"role": role, "request.jwt.claims": json.dumps(dict(claims)), **(settings or {})}
        setters = ", ".join(
            f"set_config({_literal(name)}, {_literal(value)}, true)"
            for name, value in local.items()
        )
        self.transactions += 1
        async with self.pool.acquire(timeout=ACQUIRE_TIMEOUT_SECONDS) as pooled:
            conn = cast(asyncpg.Connection, pooled)
            # One round trip opens the transaction and sets it up, and one ends it and
            # resets the session (a simple-protocol statement may hold several commands;
            # a parameterized one may not): whatever the body set beyond its transaction,
            # a role or claims included, does not reach the next request.
            try:
                await conn.execute(f"begin; select {setters}")
                yield conn
                await conn.execute(f"commit; {SESSION_RESET}")
            except BaseException:  # also a cancellation in the middle of a statement
                await _roll_back(conn)
                raise

    def service(
        self, settings: Mapping[str, str] | None = None
    ) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """A transaction as service_role: workers, the CLI, and reads before auth."""
        return self.session("service_role", SERVICE_CLAIMS, settings)

    async def ping(self, wait_seconds: float) -> bool:
        try:
            async with self.pool.acquire(timeout=wait_seconds) as conn:
                return bool(await conn.fetchval("select 1", timeout=wait_seconds) == 1)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False

    async def close(self) -> None:
        await self.pool.close()
