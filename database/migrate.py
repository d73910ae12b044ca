"""Apply `migrations/NNN_name.sql` in order, once each, one migrator at a time.

A preflight check (database/preflight.py) runs first and turns a database that cannot
host askbase into one readable line. Each file then runs in its own transaction together
with its row in the version table, so a failed migration leaves nothing half-applied and a
re-run picks up where it stopped. The lock is a transaction-level advisory lock, taken in
every one of those transactions, so that migrating also works through a transaction-mode
pooler (PgBouncer, Supabase's port 6543), where a session-level lock could be taken on one
server connection and released on another.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import asyncpg

from askbase.database import preflight

_LOCK_KEY = 0x61736B62  # "askb": one migrator at a time across processes

_VERSION_TABLE = """
create table if not exists public.askbase_migrations (
  version text primary key,
  checksum text not null,
  applied_at timestamptz not null default now()
);
-- No policy: only its owner (and service_role, which bypasses RLS) reads or writes it.
alter table public.askbase_migrations enable row level security;
"""


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations() -> list[Migration]:
    folder = resources.files("askbase.database") / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [Migration(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


class MigrationError(RuntimeError):
    pass


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Check the database, apply pending migrations; return the versions applied now.

    Raises DatabaseSetupError (what to run) or MigrationError, with one-line messages.
    """
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock($1)", _LOCK_KEY)
        await preflight.check(conn)
        await conn.execute(_VERSION_TABLE)
    applied_now: list[str] = []
    for migration in load_migrations():
        try:
            async with conn.transaction():
                await conn.execute("select pg_advisory_xact_lock($1)", _LOCK_KEY)
                done = await conn.fetchval(
                    "select checksum from public.askbase_migrations where version = $1",
                    migration.version,
                )
                if done is not None:
                    if done != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.version} was edited after it was applied; "
                            "add a new migration instead"
                        )
                    continue
                await conn.execute(migration.sql)
                await conn.execute(
                    "insert into public.askbase_migrations (version, checksum) values ($1, $2)",
                    migration.version,
                    migration.checksum,
                )
        except asyncpg.PostgresError as error:
            raise MigrationError(
                f"migration {migration.version} failed and was rolled back: {_one_line(error)}"
            ) from error
        applied_now.append(migration.version)
    return applied_now
