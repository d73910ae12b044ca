"""What a database needs before askbase's migrations can run, checked up front.

Each problem is one readable line that says what is wrong and what to run, instead of a
failed statement half-way through a migration. pgvector is used wherever it lives: in
`extensions` (Supabase enables it there) or in `public`, as long as that schema is on the
connecting role's search_path; when it is not installed yet and the role may install it,
it goes into `extensions` when that schema is on the search_path, else into `public`.
"""

from __future__ import annotations

import asyncpg

API_ROLES = ("anon", "authenticated", "service_role")


class DatabaseSetupError(RuntimeError):
    """The database cannot host askbase as it is; the message says what to run."""


VECTOR_SCHEMA = """
select n.nspname from pg_catalog.pg_extension e
join pg_catalog.pg_namespace n on n.oid = e.extnamespace
where e.extname = 'vector'
"""


async def vector_schema(conn: asyncpg.Connection) -> str | None:
    """The schema that holds pgvector's types, or None when it is not installed."""
    schema: str | None = await conn.fetchval(VECTOR_SCHEMA)
    return schema


async def check(conn: asyncpg.Connection) -> None:
    """Raise DatabaseSetupError for the first thing that stops the migrations; install
    pgvector when it is missing and the role may. Run inside a transaction."""
    facts = await conn.fetchrow(
        """
        select current_user as role,
               has_schema_privilege('public', 'CREATE') as create_in_public,
               has_database_privilege(current_database(), 'CREATE') as create_schemas,
               current_database() as database,
               to_regnamespace('auth') is not null as has_auth,
               (select count(*) from pg_catalog.pg_proc p
                join pg_catalog.pg_namespace n on n.oid = p.pronamespace
                where n.nspname = 'auth' and p.proname in ('uid', 'role', 'jwt')) = 3
                 as has_auth_functions,
               to_regnamespace('auth') is not null
                 and has_schema_privilege('auth', 'CREATE') as create_in_auth,
               to_regclass('public.askbase_migrations') is not null as has_versions,
               'extensions' = any(current_schemas(false)) as extensions_on_path,
               exists (select 1 from pg_catalog.pg_available_extensions
                       where name = 'vector') as vector_available,
               (select rolsuper or rolcreaterole from pg_catalog.pg_roles
                where rolname = current_user) as can_create_roles
        """
    )
    assert facts is not None  # a select without from returns one row
    role = facts["role"]
    if not facts["create_in_public"]:
        raise DatabaseSetupError(
            f'role "{role}" cannot create tables in schema public: as the database owner, '
            f'run `grant usage, create on schema public to "{role}"`'
        )
    database = facts["database"]
    shim_pending = not facts["has_versions"] or not await conn.fetchval(
        "select exists (select 1 from public.askbase_migrations where version = $1)",
        "000_supabase_shim",
    )
    if shim_pending and not facts["create_schemas"]:
        # The first migration creates the auth schema when it is missing (Supabase
        # projects have it), and PostgreSQL checks the privilege even when it exists.
        missing = "the auth schema is missing and " if not facts["has_auth"] else ""
        raise DatabaseSetupError(
            f'{missing}role "{role}" may not create schemas in database "{database}", which '
            f"the first migration needs: as a superuser, run `grant create on database "
            f'"{database}" to "{role}"`'
        )
    if facts["has_auth"] and not facts["has_auth_functions"] and not facts["create_in_auth"]:
        raise DatabaseSetupError(
            f'the auth schema lacks auth.uid(), auth.role() or auth.jwt() and role "{role}" '
            f"may not create them: as a superuser, run `grant create on schema auth to "
            f'"{role}"` (Supabase projects have these functions)'
        )
    await _check_api_roles(conn, role, bool(facts["can_create_roles"]))
    schema = await vector_schema(conn)
    if schema is None:
        schema = "extensions" if facts["extensions_on_path"] else "public"
        if not facts["vector_available"]:
            raise DatabaseSetupError(
                "pgvector is not installed on this PostgreSQL server: install it (Debian: "
                "postgresql-NN-pgvector), then run `create extension vector with schema "
                f"{schema}`; on Supabase, enable the vector extension (Database > Extensions)"
            )
        try:
            async with conn.transaction():  # a savepoint: the error stays readable
                await conn.execute(f"create extension if not exists vector with schema {schema}")
        except asyncpg.InsufficientPrivilegeError:
            raise DatabaseSetupError(
                f'pgvector is not enabled in this database and role "{role}" may not enable '
                f"it: as a superuser, run `create extension vector with schema {schema}` (on "
                "Supabase: Database > Extensions > vector)"
            ) from None
    if not await conn.fetchval("select $1 = any(current_schemas(false))", schema):
        raise DatabaseSetupError(
            f'pgvector is installed in schema "{schema}", which is not on the search_path of '
            f'role "{role}": run `alter role "{role}" set search_path = "$user", public, '
            f"{schema}` (or `alter extension vector set schema public`), then start again"
        )


async def _check_api_roles(conn: asyncpg.Connection, role: str, can_create: bool) -> None:
    rows = await conn.fetch(
        "select r.name, exists (select 1 from pg_catalog.pg_roles where rolname = r.name) as "
        "present from unnest($1::text[]) as r(name)",
        list(API_ROLES),
    )
    missing = [r["name"] for r in rows if not r["present"]]
    if missing and not can_create:
        raise DatabaseSetupError(
            f'the roles {", ".join(missing)} are missing and role "{role}" may not create '
            f"them: as a superuser, run `create role {' nologin; create role '.join(missing)} "
            f'nologin; grant {", ".join(missing)} to "{role}"`'
        )
    present = [r["name"] for r in rows if r["present"]]
    if not present:
        return
    members = await conn.fetch(
        "select name from unnest($1::text[]) as r(name) "
        "where not pg_has_role(current_user, name, 'MEMBER')",
        present,
    )
    outside = [r["name"] for r in members]
    # The shim migration grants them itself when it may (a role with CREATEROLE and the
    # ADMIN option, or a superuser); otherwise request-scoped queries could not SET ROLE.
    if outside and not await _can_grant(conn, outside):
        raise DatabaseSetupError(
            f'role "{role}" cannot switch to {", ".join(outside)}: as a superuser, run '
            f'`grant {", ".join(outside)} to "{role}"`'
        )


async def _can_grant(conn: asyncpg.Connection, roles: list[str]) -> bool:
    allowed: bool = await conn.fetchval(
        "select coalesce(bool_and(pg_has_role(current_user, name, 'MEMBER WITH ADMIN OPTION')), "
        "true) "
        "from unnest($1::text[]) as r(name)",
        roles,
    )
    return allowed
