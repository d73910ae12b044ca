"""Website queries. Visitors may read only the public columns (enforced by grants too)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import asyncpg

PUBLIC_COLUMNS = "id, domain, name, settings, allowed_origins, created_at"
OWNER_COLUMNS = f"{PUBLIC_COLUMNS}, owner_id, system_prompt, model, temperature"

# Columns an update may set, by name; values arrive validated.
UPDATABLE = frozenset(
    {"name", "settings", "system_prompt", "model", "temperature", "allowed_origins"}
)
# What resetting a column sets it to (SQL over the row's own columns): what a new website has.
DEFAULTS = {
    "name": "domain",
    "allowed_origins": "'{}'::text[]",
    "system_prompt": "null",
    "model": "null",
    "temperature": "null",
}


async def insert(
    conn: asyncpg.Connection,
    *,
    domain: str,
    name: str,
    allowed_origins: Sequence[str],
    system_prompt: str | None,
    settings: Mapping[str, Any],
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""
        insert into public.websites (domain, name, allowed_origins, system_prompt, settings)
        values ($1, $2, $3, $4, $5)
        returning {OWNER_COLUMNS}
        """,
        domain,
        name,
        list(allowed_origins),
        system_prompt,
        dict(settings),
    )
    assert row is not None
    return row


async def by_ids(
    conn: asyncpg.Connection, ids: Sequence[uuid.UUID], *, owner_view: bool
) -> list[asyncpg.Record]:
    columns = OWNER_COLUMNS if owner_view else PUBLIC_COLUMNS
    rows: list[asyncpg.Record] = await conn.fetch(
        f"select {columns} from public.websites where id = any($1::uuid[])", list(ids)
    )
    return rows


async def owned(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """The caller's websites: row-level security keeps only those of auth.uid()."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"select {OWNER_COLUMNS} from public.websites order by created_at, id"
    )
    return rows


async def update(
    conn: asyncpg.Connection,
    website_id: uuid.UUID,
    changes: Mapping[str, Any],
    reset: Collection[str] = (),
) -> asyncpg.Record | None:
    """Set `changes`, and set the columns named in `reset` back to their DEFAULTS."""
    refused = (
        (set(changes) - UPDATABLE) | (set(reset) - set(DEFAULTS)) | (set(changes) & set(reset))
    )
    if refused:
        raise ValueError(f"not updatable (or both set and reset): {sorted(refused)}")
    # Public settings are merged key by key; a null value removes that key.
    assignments = [
        f"settings = jsonb_strip_nulls(settings || ${i})" if col == "settings" else f"{col} = ${i}"
        for i, col in enumerate(changes, start=2)
    ]
    assignments.extend(f"{col} = {DEFAULTS[col]}" for col in reset)
    assignments.append("updated_at = now()")
    row: asyncpg.Record | None = await conn.fetchrow(
        f"update public.websites set {', '.join(assignments)} where id = $1 "
        f"returning {OWNER_COLUMNS}",
        website_id,
        *changes.values(),
    )
    return row


async def delete(conn: asyncpg.Connection, website_id: uuid.UUID) -> bool:
    deleted = await conn.fetchval(
        "delete from public.websites where id = $1 returning id", website_id
    )
    return deleted is not None


async def is_time_zone(conn: asyncpg.Connection, name: str) -> bool:
    """Whether PostgreSQL knows `name` as a time zone (the names date_trunc accepts)."""
    found: bool = await conn.fetchval(
        "select exists(select 1 from pg_catalog.pg_timezone_names where name = $1)", name
    )
    return found


async def access_info(conn: asyncpg.Connection, website_id: uuid.UUID) -> asyncpg.Record | None:
    """Id, allowed origins and whether visitors may send only trusted documents, for the
    checks of a visitor's requests (run as service_role)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "select id, allowed_origins,"
        " coalesce((settings->>'trustedDocumentsOnly')::boolean, false) as trusted_only"
        " from public.websites where id = $1",
        website_id,
    )
    return row


async def id_by_domain(conn: asyncpg.Connection, domain: str) -> uuid.UUID | None:
    """Any owner's website with this domain (service role: the demo website)."""
    found: uuid.UUID | None = await conn.fetchval(
        "select id from public.websites where domain = $1", domain
    )
    return found


async def insert_for(
    conn: asyncpg.Connection,
    owner_id: uuid.UUID,
    domain: str,
    name: str,
    allowed_origins: list[str],
    settings: dict[str, Any],
) -> uuid.UUID:
    """A website for a given owner (service role: the demo website)."""
    website_id: uuid.UUID = await conn.fetchval(
        """
        insert into public.websites (owner_id, domain, name, allowed_origins, settings)
        values ($1, $2, $3, $4, $5) returning id
        """,
        owner_id,
        domain,
        name,
        allowed_origins,
        settings,
    )
    return website_id


async def set_allowed_origins(
    conn: asyncpg.Connection, website_id: uuid.UUID, origins: list[str]
) -> None:
    await conn.execute(
        "update public.websites set allowed_origins = $2 where id = $1", website_id, origins
    )
