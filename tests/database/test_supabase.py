"""askbase on a database set up the way a Supabase project's is (tests/database/supabase_init.sql):
a non-superuser owner role, the API roles with Supabase's default privileges on schema
public, pgvector in schema extensions, auth.* helpers that read PostgREST's claims.

Migrations and `askbase serve` run as that owner; tenants are kept apart through the
API and when the API roles are reached directly, as PostgREST reaches them; a database
askbase cannot use is refused in one readable line, before anything is migrated."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from tests.chat.test_chat_stream import REFUNDS, connected, events, new_chat, start
from tests.conftest import (
    ADD_MESSAGE,
    CREATE_CHAT,
    CREATE_WEBSITE,
    JWT_SECRET,
    ORIGIN,
    ROOT,
    Api,
    askbase_process,
    embedded_postgres,
    owner_token,
    visitor_session,
)
from tests.knowledge.test_documents import ADD_TEXT, DOCUMENT, upload, wait_until_done
from tests.web.test_ws import recv

INIT_SQL = (Path(__file__).parent / "supabase_init.sql").read_text(encoding="utf-8")
OWNER = "supabase_owner"  # Supabase's `postgres`: the embedded superuser already has that name
API_ROLES = ("anon", "authenticated")  # what PostgREST switches to for requests
INTERNAL = (
    "askbase_migrations",
    "embedding_settings",
    "chunk_lexemes",
    "chunk_stats",
    "rate_limits",
    "scheduled_runs",
    "job_turns",
    "console_codes",
)


def as_user(dsn: str, user: str, database: str | None = None) -> str:
    """The same server (its Unix socket, in the query string), as another role."""
    parts = urlsplit(dsn)
    host = parts.netloc.rpartition("@")[2]
    path = f"/{database}" if database else parts.path
    return urlunsplit(parts._replace(netloc=f"{user}@{host}", path=path))


@dataclass(frozen=True)
class Project:
    admin: str  # the superuser (Supabase's supabase_admin), for arranging and inspecting
    owner: str  # what a Supabase user puts in DATABASE_URL
    authenticator: str  # PostgREST's login role


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One embedded server for the module; each test group gets databases of its own."""
    server = embedded_postgres(tmp_path_factory.mktemp("supabase"))
    try:
        yield server.get_uri()
    finally:
        server._cleanup()


async def execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def fetch(dsn: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        return rows
    finally:
        await conn.close()


async def new_database(cluster: str, name: str, setup: str = "") -> str:
    """A fresh database, `setup` run in it as the superuser; its superuser DSN."""
    await execute(cluster, f'create database "{name}"')
    dsn = as_user(cluster, "postgres", name)
    if setup:
        await execute(dsn, setup)
    return dsn


async def supabase_project(cluster: str, name: str) -> Project:
    admin = await new_database(cluster, name, INIT_SQL)
    return Project(admin, as_user(admin, OWNER), as_user(admin, "authenticator"))


@pytest.fixture(scope="module")
async def project(cluster: str) -> Project:
    return await supabase_project(cluster, "project")


# --- the init script itself ---------------------------------------------------------


async def test_the_owner_role_is_set_up_like_supabases_postgres(project: Project) -> None:
    """Checked here so that the tests below cannot pass against a lenient stand-in."""
    superuser = await fetch(
        project.admin,
        "select current_user as name, usesuper from pg_user where usename = current_user",
    )
    # The bootstrap superuser is named `postgres`, hence OWNER's other name.
    assert tuple(superuser[0]) == ("postgres", True)
    role = (
        await fetch(
            project.admin,
            "select rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolcanlogin, rolinherit,"
            " (select datdba::regrole::text from pg_database where datname = current_database())"
            " as database_owner from pg_roles where rolname = $1",
            OWNER,
        )
    )[0]
    assert dict(role) == {
        "rolsuper": False,
        "rolcreatedb": True,
        "rolcreaterole": True,
        "rolbypassrls": True,
        "rolcanlogin": True,
        "rolinherit": True,
        "database_owner": OWNER,
    }
    conn = await asyncpg.connect(project.owner)
    try:
        assert await conn.fetchval("select current_user") == OWNER
        assert await conn.fetchval("select current_schemas(false)") == ["public", "extensions"]
        assert await conn.fetchval("select has_schema_privilege('public', 'CREATE')")
        for api_role in ("anon", "authenticated", "service_role"):
            assert await conn.fetchval(
                "select pg_has_role($1, 'MEMBER WITH ADMIN OPTION')", api_role
            ), api_role
        claims = json.dumps({"sub": str(uuid.uuid4()), "role": "authenticated"})
        async with conn.transaction():
            await conn.execute("select set_config('request.jwt.claims', $1, true)", claims)
            got = await conn.fetchrow("select auth.uid()::text as uid, auth.role() as role")
        assert [got["uid"], got["role"]] == [json.loads(claims)["sub"], "authenticated"]
    finally:
        await conn.close()
    rows = await fetch(
        project.admin,
        "select r.rolname, r.rolinherit, r.rolcanlogin, r.rolbypassrls, r.rolconfig,"
        " pg_has_role('authenticator', r.oid, 'MEMBER') as via_authenticator"
        " from pg_roles r where r.rolname = any($1::text[]) order by r.rolname",
        ["anon", "authenticated", "service_role", "authenticator"],
    )
    assert [tuple(r) for r in rows] == [
        ("anon", True, False, False, ["statement_timeout=3s"], True),
        ("authenticated", True, False, False, ["statement_timeout=8s"], True),
        ("authenticator", False, True, False, ["statement_timeout=8s", "lock_timeout=8s"], True),
        ("service_role", True, False, True, None, True),
    ]
    vector = await fetch(
        project.admin,
        "select extnamespace::regnamespace::text as schema from pg_extension where extname = 'vector'",
    )
    assert [r["schema"] for r in vector] == ["extensions"]


# --- askbase migrate as the owner ---------------------------------------------------


def migrate_env(dsn: str) -> dict[str, str]:
    """What `askbase migrate` sees: the database and the secret, nothing of ours."""
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    return {**env, "DATABASE_URL": dsn, "SUPABASE_JWT_SECRET": JWT_SECRET}


def askbase_migrate(dsn: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "askbase.app.cli", "migrate"],
        cwd=ROOT,
        env=migrate_env(dsn),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
async def migrate_project(cluster: str) -> Project:
    return await supabase_project(cluster, "migrate")


async def test_migrate_as_the_owner_is_idempotent_and_keeps_pgvector_in_extensions(
    migrate_project: Project,
) -> None:
    first = await asyncio.to_thread(askbase_migrate, migrate_project.owner)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("applied: 000_supabase_shim, 001_core"), first.stdout
    assert "Traceback" not in first.stderr
    again = await asyncio.to_thread(askbase_migrate, migrate_project.owner)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "database is up to date"

    facts = (
        await fetch(
            migrate_project.admin,
            """
            select
              (select array_agg(extnamespace::regnamespace::text) from pg_extension
               where extname = 'vector') as vector_schemas,
              (select count(*) from pg_type
               where typname = 'vector' and typnamespace = 'public'::regnamespace) as public_vector,
              (select t.typnamespace::regnamespace::text from pg_attribute a
               join pg_type t on t.oid = a.atttypid
               where a.attrelid = 'public.document_chunks'::regclass and a.attname = 'embedding')
                as embedding_type_schema,
              (select array_agg(distinct relowner::regrole::text) from pg_class
               where relnamespace = 'public'::regnamespace and relkind = 'r') as table_owners
            """,
        )
    )[0]
    assert facts["vector_schemas"] == ["extensions"]
    assert facts["public_vector"] == 0
    assert facts["embedding_type_schema"] == "extensions"
    assert facts["table_owners"] == [OWNER]


# --- askbase serve as the owner: the whole path, and tenancy through the API -----------


@pytest.fixture(scope="module")
def served(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with askbase_process(
        "serve",
        tmp_path_factory.mktemp("serve"),
        DATABASE_URL=project.owner,
        LOG_LEVEL="WARNING",
        RATE_LIMIT_BACKEND="postgres",  # its table, through the owner's pool, too
        RATE_LIMIT_IP_PER_MINUTE="1000000",
        RATE_LIMIT_WEBSITE_PER_MINUTE="1000000",
    ) as url:
        yield url


@pytest.fixture
async def served_api(served: str) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        yield Api(base_url=served, state=None, http=http)  # type: ignore[arg-type]


async def new_site(api: Api, token: str, **extra: Any) -> str:
    data = await api.data(
        CREATE_WEBSITE,
        {
            "input": {
                "domain": f"site-{uuid.uuid4().hex[:8]}.example",
                "allowedOrigins": [ORIGIN],
                **extra,
            }
        },
        token=token,
    )
    site_id: str = data["createWebsite"]["id"]
    return site_id


async def test_serve_ingests_an_upload_and_streams_an_answer_over_a_websocket(
    served_api: Api, project: Project
) -> None:
    api = served_api
    assert (await api.http.get("/health/db")).status_code == 200
    owner = owner_token()
    site = await new_site(api, owner)
    body = await upload(api, owner, site, "refunds.md", REFUNDS.encode())
    assert "errors" not in body, body
    document_id = body["data"]["uploadDocument"]["id"]
    doc = await wait_until_done(api, owner, document_id)
    assert doc["status"] == "READY" and doc["chunkCount"] >= 1, doc

    session = await visitor_session(api, site)
    chat_id = await new_chat(api, session["token"], site)
    async with connected(api, "graphql-transport-ws", session["token"]) as ws:
        await start(ws, "graphql-transport-ws", chat_id, "How long do refunds take?")
        got = await events(ws)
    kinds = [e["__typename"] for e in got]
    assert kinds[0] == "SourcesFound" and kinds[-1] == "MessageDone", kinds
    assert len(kinds) >= 3 and set(kinds[1:-1]) == {"TokenDelta"}, kinds
    assert got[0]["sources"][0]["documentId"] == document_id
    text = "".join(e["text"] for e in got[1:-1])
    assert "five working days" in text
    assert got[-1]["message"]["content"] == text and got[-1]["message"]["status"] == "COMPLETE"
    # The vectors went into the owner's table, typed by pgvector from schema extensions.
    stored = await fetch(
        project.admin,
        "select count(*) as n from public.document_chunks"
        " where document_id = $1::uuid and embedding is not null",
        document_id,
    )
    assert stored[0]["n"] == doc["chunkCount"]


WEBSITE = """
query($id: ID!) { website(id: $id) { id name settings { systemPrompt model temperature allowedOrigins } } }
"""
CHAT = "query($id: ID!) { chat(id: $id) { id } }"
CHATS = "query($w: ID!) { chats(websiteId: $w) { nodes { id } } }"
MESSAGES = "query($c: ID!) { messages(chatId: $c) { nodes { id content } } }"
DOCUMENTS = "query($w: ID!) { documents(websiteId: $w) { nodes { id } } }"
UPDATE_WEBSITE = """
mutation($id: ID!, $input: UpdateWebsiteInput!) { updateWebsite(id: $id, input: $input) { id } }
"""


async def refused_with(
    api: Api, code: str, query: str, variables: dict[str, Any], **kw: Any
) -> None:
    error = await api.error(query, variables, **kw)
    assert error["extensions"]["code"] == code, (query, error)


async def test_tenants_stay_apart_through_the_api(served_api: Api) -> None:
    api = served_api
    owner_a, owner_b = owner_token(), owner_token()
    site_a = await new_site(api, owner_a, systemPrompt="the secret prompt of A")
    await api.data(
        UPDATE_WEBSITE,
        {"id": site_a, "input": {"model": "gpt-4o-mini", "temperature": 0.4}},
        token=owner_a,
    )
    site_b = await new_site(api, owner_b)
    doc_a = (
        await api.data(
            ADD_TEXT, {"w": site_a, "n": "a.md", "t": "# A\n\nOnly for A."}, token=owner_a
        )
    )["addDocumentText"]["id"]
    alice = await visitor_session(api, site_a)
    bob = await visitor_session(api, site_a)
    as_alice = {"token": alice["token"], "origin": ORIGIN}
    as_bob = {"token": bob["token"], "origin": ORIGIN}
    alices_chat = await new_chat(api, alice["token"], site_a)
    await api.data(ADD_MESSAGE, {"c": alices_chat, "m": "alice's secret"}, **as_alice)
    owners_chat = (await api.data(CREATE_CHAT, {"w": site_a}, token=owner_a))["createChat"]["id"]

    # What A sees, so that the refusals below are refusals and not an empty database.
    settings = (await api.data(WEBSITE, {"id": site_a}, token=owner_a))["website"]["settings"]
    assert (
        settings["systemPrompt"] == "the secret prompt of A" and settings["model"] == "gpt-4o-mini"
    )
    assert {
        n["id"] for n in (await api.data(CHATS, {"w": site_a}, token=owner_a))["chats"]["nodes"]
    } == {
        alices_chat,
        owners_chat,
    }
    assert (await api.data(DOCUMENT, {"d": doc_a}, token=owner_a))["document"]["id"] == doc_a

    # Owner B reaches none of it.
    as_b = {"token": owner_b}
    assert await api.data(WEBSITE, {"id": site_a}, **as_b) == {"website": None}
    assert [w["id"] for w in (await api.data("{ websites { id } }", **as_b))["websites"]] == [
        site_b
    ]
    assert await api.data(DOCUMENT, {"d": doc_a}, **as_b) == {"document": None}
    for chat_id in (alices_chat, owners_chat):
        assert await api.data(CHAT, {"id": chat_id}, **as_b) == {"chat": None}
        await refused_with(api, "NOT_FOUND", MESSAGES, {"c": chat_id}, **as_b)
        await refused_with(api, "NOT_FOUND", ADD_MESSAGE, {"c": chat_id, "m": "hi"}, **as_b)
        await refused_with(
            api, "NOT_FOUND", "mutation($id: ID!) { deleteChat(id: $id) }", {"id": chat_id}, **as_b
        )
    for query, variables in (
        (CHATS, {"w": site_a}),
        (DOCUMENTS, {"w": site_a}),
        (CREATE_CHAT, {"w": site_a}),
        (ADD_TEXT, {"w": site_a, "n": "b.md", "t": "planted by B"}),
        (UPDATE_WEBSITE, {"id": site_a, "input": {"name": "taken"}}),
        ("mutation($id: ID!) { deleteWebsite(id: $id) }", {"id": site_a}),
        ("mutation($d: ID!) { deleteDocument(id: $d) }", {"d": doc_a}),
        ('query($w: ID!) { search(websiteId: $w, query: "only") { chunkId } }', {"w": site_a}),
        ("query($w: ID!) { usage(websiteId: $w) { answers } }", {"w": site_a}),
    ):
        await refused_with(api, "NOT_FOUND", query, variables, **as_b)

    # A visitor reaches neither another visitor's chat nor the owner's.
    for chat_id in (alices_chat, owners_chat):
        assert await api.data(CHAT, {"id": chat_id}, **as_bob) == {"chat": None}
        await refused_with(api, "NOT_FOUND", MESSAGES, {"c": chat_id}, **as_bob)
        await refused_with(api, "NOT_FOUND", ADD_MESSAGE, {"c": chat_id, "m": "hi"}, **as_bob)
    assert (await api.data(CHATS, {"w": site_a}, **as_bob))["chats"]["nodes"] == []
    async with connected(api, "graphql-transport-ws", bob["token"]) as ws:
        await start(ws, "graphql-transport-ws", alices_chat, "what did alice say?")
        reply = await asyncio.wait_for(recv(ws), 10)
        assert reply["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND", reply
    # A visitor's token is for its one website.
    await refused_with(api, "FORBIDDEN", CREATE_CHAT, {"w": site_b}, **as_alice)

    # Visitors never see owner-only settings, wherever the website appears.
    public = (await api.data(WEBSITE, {"id": site_a}, **as_alice))["website"]
    assert public["id"] == site_a
    assert public["settings"] == {
        "systemPrompt": None,
        "model": None,
        "temperature": None,
        "allowedOrigins": None,
    }
    started = await api.data(
        "mutation($id: ID!) { startSession(websiteId: $id) { website { settings { systemPrompt model } } } }",
        {"id": site_a},
        origin=ORIGIN,
    )
    assert started["startSession"]["website"]["settings"] == {"systemPrompt": None, "model": None}

    # Alice's own chat is intact, and only hers.
    mine = (await api.data(MESSAGES, {"c": alices_chat}, **as_alice))["messages"]["nodes"]
    assert [m["content"] for m in mine] == ["alice's secret"]


# --- the API roles reached directly, as PostgREST reaches them ------------------------


@dataclass(frozen=True)
class Seeded:
    project: Project
    owner_a: uuid.UUID
    owner_b: uuid.UUID
    site_a: uuid.UUID
    site_b: uuid.UUID
    alice: uuid.UUID  # visitors of website A
    bob: uuid.UUID
    carol: uuid.UUID  # a visitor of website B
    chats: dict[str, uuid.UUID]  # by visitor name; "owner": owner A's own chat

    def owner(self, which: str) -> dict[str, Any]:
        sub = self.owner_a if which == "a" else self.owner_b
        return {"sub": str(sub), "role": "authenticated", "aud": "authenticated"}

    def visitor(self, name: str) -> dict[str, Any]:
        sub, site = {
            "alice": (self.alice, self.site_a),
            "bob": (self.bob, self.site_a),
            "carol": (self.carol, self.site_b),
        }[name]
        return {"sub": str(sub), "role": "anon", "website_id": str(site)}


SEED_SITE = """
with site as (
  insert into public.websites (owner_id, domain, name, system_prompt, model, temperature)
  values ($1, $2, $2, 'secret prompt of ' || $2, 'model-' || $2, 0.3) returning id
), doc as (
  insert into public.documents (website_id, filename, content_type, size_bytes, status)
  select id, 'notes.md', 'text/markdown', 5, 'ready' from site returning id, website_id
), files as (
  insert into public.document_files (document_id, website_id, data)
  select id, website_id, '\\x6e6f746573'::bytea from doc
), job as (
  insert into public.jobs (document_id, website_id, status) select id, website_id, 'done' from doc
), chunk as (
  insert into public.document_chunks (document_id, website_id, ordinal, content, title, fts)
  select id, website_id, 0, 'Opening hours of ' || $2, 'notes.md',
         to_tsvector('english', 'Opening hours of ' || $2)
  from doc
)
select id from site
"""

SEED_LEARNING = """
with answer as (
  insert into public.messages (chat_id, website_id, role, content, confidence)
  select id, website_id, 'assistant', 'I don''t know.', 0 from public.chats where id = $1
  returning id, chat_id, website_id, created_at
), rating as (
  insert into public.message_feedback (message_id, chat_id, website_id, rating, comment)
  select id, chat_id, website_id, 'down', 'not helpful' from answer
), gap as (
  insert into public.knowledge_gaps (website_id, question, centroid, size)
  select website_id, $2, array_fill(0.1, array[384])::vector, 1 from answer returning id
)
insert into public.knowledge_gap_questions
  (message_id, gap_id, website_id, question, embedding, reasons, asked_at)
select a.id, g.id, a.website_id, $2, array_fill(0.1, array[384])::vector,
       array['no_sources', 'rated_down'], a.created_at
from answer a, gap g
"""

SEED_HANDOFF = """
with hook as (
  insert into public.handoff_webhooks (website_id, url, secret)
  values ($1, 'https://hooks.example/askbase', 'seeded-secret')
)
insert into public.handoff_deliveries (website_id, chat_id, event_id, attempt, url, status_code, ok)
values ($1, $2, gen_random_uuid(), 1, 'https://hooks.example/askbase', 200, true)
"""


async def seed(project: Project) -> Seeded:
    """Two owners' websites with a row in every table, written as the owner role (which
    owns the tables and bypasses row-level security, as on Supabase)."""
    owner_a, owner_b = uuid.uuid4(), uuid.uuid4()
    alice, bob, carol = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    conn = await asyncpg.connect(project.owner)
    try:
        async with conn.transaction():
            site_a = await conn.fetchval(SEED_SITE, owner_a, "a.example")
            site_b = await conn.fetchval(SEED_SITE, owner_b, "b.example")
            chats: dict[str, uuid.UUID] = {}
            for name, site, visitor in (
                ("alice", site_a, alice),
                ("bob", site_a, bob),
                ("owner", site_a, None),
                ("carol", site_b, carol),
            ):
                chats[name] = await conn.fetchval(
                    "insert into public.chats (website_id, visitor_id, title) values ($1, $2, $3)"
                    " returning id",
                    site,
                    visitor,
                    f"{name}'s chat",
                )
                await conn.execute(
                    "insert into public.messages (chat_id, website_id, role, content)"
                    " values ($1, $2, 'user', $3)",
                    chats[name],
                    site,
                    f"{name}'s message",
                )
            # An answer in bob's chat, its rating and its knowledge gap.
            await conn.execute(SEED_LEARNING, chats["bob"], "bob's question")
            for site in (site_a, site_b):  # a website source and one of its pages
                source = await conn.fetchval(
                    "insert into public.website_sources (website_id, url)"
                    " values ($1, 'https://site.example/') returning id",
                    site,
                )
                await conn.execute(
                    "insert into public.source_pages (source_id, website_id, url)"
                    " values ($1, $2, 'https://site.example/')",
                    source,
                    site,
                )
            for site, chat in ((site_a, chats["alice"]), (site_b, chats["carol"])):
                await conn.execute(SEED_HANDOFF, site, chat)  # a webhook and a delivery
            await conn.execute(
                "insert into public.embedding_settings (model, dimension) values ('seeded', 384)"
            )
            await conn.execute(
                "insert into public.rate_limits (key, level, updated_at)"
                " values ('ip:192.0.2.1', 1, now())"
            )
            await conn.execute(
                "insert into public.scheduled_runs (task, last_run_at) values ('retention', now())"
            )
            await conn.execute(
                "insert into public.console_codes (code_hash, user_id, expires_at)"
                " values ('\\x00', gen_random_uuid(), now() + interval '10 minutes')"
            )
            await conn.execute(
                "insert into public.job_turns (website_id, served_at) values ($1, now())", site_a
            )
    finally:
        await conn.close()
    return Seeded(project, owner_a, owner_b, site_a, site_b, alice, bob, carol, chats)


@pytest.fixture(scope="module")
async def seeded(cluster: str) -> Seeded:
    project = await supabase_project(cluster, "roles")
    migrated = await asyncio.to_thread(askbase_migrate, project.owner)
    assert migrated.returncode == 0, migrated.stderr
    return await seed(project)


@pytest.fixture(scope="module")
async def postgrest(seeded: Seeded) -> AsyncIterator[asyncpg.Connection]:
    """A connection as PostgREST holds them: logged in as authenticator."""
    conn = await asyncpg.connect(seeded.project.authenticator)
    try:
        assert await conn.fetchval("select current_user") == "authenticator"
        yield conn
    finally:
        await conn.close()


async def as_api_role(
    conn: asyncpg.Connection, role: str, claims: dict[str, Any], sql: str, *args: Any
) -> list[asyncpg.Record]:
    """`sql` run as PostgREST runs a request: in a transaction, after `set local role` and
    with the JWT's claims in request.jwt.claims. Always rolled back: whatever a probe
    manages to do must not stay for the next one."""
    assert role in API_ROLES
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute(f"set local role {role}")
        await conn.execute("select set_config('request.jwt.claims', $1, true)", json.dumps(claims))
        rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        return rows
    finally:
        await transaction.rollback()


async def reached(
    conn: asyncpg.Connection, role: str, claims: dict[str, Any], sql: str, *args: Any
) -> int:
    """How many rows `sql` reads or changes (it returns one per row); 0 when refused."""
    try:
        return len(await as_api_role(conn, role, claims, sql, *args))
    except asyncpg.InsufficientPrivilegeError:
        return 0


# A write into another tenant is refused by a privilege or by a policy (both 42501), or,
# for messages, first by the trigger that checks the chat's website (whose lookup the
# policies also filter, so it finds no chat).
WRITE_REFUSED = (asyncpg.InsufficientPrivilegeError, asyncpg.CheckViolationError)
PRIVILEGE = (asyncpg.InsufficientPrivilegeError,)


async def assert_refused(
    conn: asyncpg.Connection,
    role: str,
    claims: dict[str, Any],
    sql: str,
    *args: Any,
    by: tuple[type[asyncpg.PostgresError], ...] = PRIVILEGE,
) -> None:
    try:
        await as_api_role(conn, role, claims, sql, *args)
    except by:
        return
    except asyncpg.PostgresError as error:
        raise AssertionError(f"{role} {claims}: `{sql}` failed otherwise: {error!r}") from None
    raise AssertionError(f"{role} {claims}: `{sql}` was allowed")


@dataclass(frozen=True)
class Table:
    name: str
    columns: list[str]  # writable ones: not generated
    tenant_key: str | None  # the column that names the website of a row


async def public_tables(project: Project) -> list[Table]:
    """Every table in schema public, from the catalog: tables added later are covered."""
    rows = await fetch(
        project.admin,
        """
        select c.relname as name,
               array_agg(a.attname::text order by a.attnum) filter (where a.attgenerated = '')
                 as columns,
               bool_or(a.attname = 'website_id') as tenanted
        from pg_class c
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
        group by c.relname order by c.relname
        """,
    )
    tables = []
    for row in rows:
        key = "website_id" if row["tenanted"] else "id" if row["name"] == "websites" else None
        tables.append(Table(row["name"], row["columns"], key))
    return tables


async def rows_of(project: Project, table: Table, website: uuid.UUID) -> list[str]:
    """The rows of a website in `table` as JSON (all rows where no column names a website:
    those are askbase's own, nobody's through the API)."""
    where = f"{table.tenant_key} = $1" if table.tenant_key else "$1::uuid is not null"
    rows = await fetch(
        project.admin,
        f"select row_to_json(t)::text as r from public.{table.name} t where {where}",
        website,
    )
    return [r["r"] for r in rows]


async def assert_cannot_reach(
    conn: asyncpg.Connection,
    role: str,
    claims: dict[str, Any],
    table: Table,
    victim: uuid.UUID,
    row: str | None,
) -> None:
    """`claims` neither read nor write the rows of website `victim` in `table`."""
    where = f"{table.tenant_key} = $1" if table.tenant_key else "$1::uuid is not null"
    name = f"public.{table.name}"
    first = table.columns[0]
    for sql in (
        f"select 1 from {name} where {where}",
        f"update {name} set {first} = {first} where {where} returning 1",
        f"delete from {name} where {where} returning 1",
    ):
        assert await reached(conn, role, claims, sql, victim) == 0, (role, claims, sql)
    if row is not None:  # the victim's row, written again under these claims
        columns = ", ".join(table.columns)
        await assert_refused(
            conn,
            role,
            claims,
            f"insert into {name} ({columns}) select {columns}"
            f" from json_populate_record(null::{name}, $1::json)",
            row,
            by=WRITE_REFUSED,
        )
    # TRUNCATE ignores row-level security: only a missing privilege stops it.
    await assert_refused(conn, role, claims, f"truncate {name}")
    await assert_refused(
        conn,
        role,
        claims,
        f"create trigger askbase_probe before insert on {name}"
        " for each row execute function suppress_redundant_updates_trigger()",
    )


async def test_every_table_keeps_owner_as_rows_from_owner_b_and_from_other_visitors(
    seeded: Seeded, postgrest: asyncpg.Connection
) -> None:
    tables = await public_tables(seeded.project)
    assert {"websites", "chats", "messages", "documents", "document_chunks", "jobs"} <= {
        t.name for t in tables
    }
    for table in tables:
        rows = await rows_of(seeded.project, table, seeded.site_a)
        if table.tenant_key:
            assert rows, (
                f"seed a row of website A in {table.name} (tests/database/test_supabase.py)"
            )
        await assert_cannot_reach(
            postgrest,
            "authenticated",
            seeded.owner("b"),
            table,
            seeded.site_a,
            rows[0] if rows else None,
        )
        await assert_cannot_reach(
            postgrest,
            "anon",
            seeded.visitor("carol"),
            table,
            seeded.site_a,
            rows[0] if rows else None,
        )
    # The same claims do reach their own rows: the refusals above are not an accident.
    owner_a = seeded.owner("a")
    for table in (
        "websites",
        "chats",
        "messages",
        "documents",
        "document_chunks",
        "document_files",
        "jobs",
    ):
        assert (
            await reached(postgrest, "authenticated", owner_a, f"select 1 from public.{table}") >= 1
        ), table
        assert (
            await reached(
                postgrest, "authenticated", seeded.owner("b"), f"select 1 from public.{table}"
            )
            >= 1
        ), table
    assert (
        await reached(postgrest, "anon", seeded.visitor("carol"), "select 1 from public.messages")
        == 1
    )


async def test_visitors_see_only_their_own_chats_and_no_owner_only_columns(
    seeded: Seeded, postgrest: asyncpg.Connection
) -> None:
    alice = seeded.visitor("alice")
    chats = await as_api_role(postgrest, "anon", alice, "select id from public.chats")
    assert [r["id"] for r in chats] == [seeded.chats["alice"]]
    messages = await as_api_role(postgrest, "anon", alice, "select content from public.messages")
    assert [r["content"] for r in messages] == ["alice's message"]
    for other in ("bob", "owner"):
        chat = seeded.chats[other]
        for sql in (
            "select 1 from public.messages where chat_id = $1",
            "update public.chats set title = 'mine' where id = $1 returning 1",
            "update public.messages set content = 'mine' where chat_id = $1 returning 1",
            "delete from public.messages where chat_id = $1 returning 1",
            "delete from public.chats where id = $1 returning 1",
        ):
            assert await reached(postgrest, "anon", alice, sql, chat) == 0, (other, sql)
        await assert_refused(
            postgrest,
            "anon",
            alice,
            "insert into public.messages (chat_id, website_id, role, content)"
            " values ($1, $2, 'user', 'planted')",
            chat,
            seeded.site_a,
            by=WRITE_REFUSED,
        )
    # Another visitor's chat cannot be taken over by claiming it either.
    await assert_refused(
        postgrest,
        "anon",
        alice,
        "insert into public.chats (website_id, visitor_id) values ($1, $2)",
        seeded.site_a,
        seeded.bob,
    )

    site = await as_api_role(postgrest, "anon", alice, "select id, name from public.websites")
    assert [(r["id"], r["name"]) for r in site] == [(seeded.site_a, "a.example")]
    for column in ("system_prompt", "model", "temperature", "owner_id", "*"):
        await assert_refused(postgrest, "anon", alice, f"select {column} from public.websites")


async def test_api_roles_cannot_read_or_write_askbases_internal_tables(
    seeded: Seeded, postgrest: asyncpg.Connection
) -> None:
    """Supabase's default privileges grant anon and authenticated everything on every new
    table in public: askbase's own tables must take that back."""
    tables = {t.name: t for t in await public_tables(seeded.project)}
    probes: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
        ("authenticated", seeded.owner("a"), INTERNAL),
        ("anon", seeded.visitor("alice"), (*INTERNAL, "jobs", "document_files", "documents")),
    ]
    for role, claims, names in probes:
        own = seeded.site_a
        for name in names:
            table = tables[name]
            what = (role, name)
            # Reading: chunk statistics of one's own website are searched by design.
            readable = name in ("chunk_lexemes", "chunk_stats")
            hidden = "website_id is distinct from $1" if readable else "$1::uuid is not null"
            assert (
                await reached(
                    postgrest, role, claims, f"select 1 from public.{name} where {hidden}", own
                )
                == 0
            ), what
            # Writing: never, not even one's own website's rows.
            rows = await rows_of(seeded.project, table, own)
            assert rows, f"seed a row in {name}"
            first = table.columns[0]
            for sql in (
                f"update public.{name} set {first} = {first} returning 1",
                f"delete from public.{name} returning 1",
            ):
                assert await reached(postgrest, role, claims, sql) == 0, (what, sql)
            columns = ", ".join(table.columns)
            await assert_refused(
                postgrest,
                role,
                claims,
                f"insert into public.{name} ({columns}) select {columns}"
                f" from json_populate_record(null::public.{name}, $1::json)",
                rows[0],
            )
            for sql in (
                f"truncate public.{name}",
                f"lock table public.{name} in access exclusive mode nowait",
                f"create trigger askbase_probe after insert on public.{name}"
                " for each row execute function suppress_redundant_updates_trigger()",
            ):
                await assert_refused(postgrest, role, claims, sql)


async def test_no_api_role_may_truncate_alter_or_maintain_any_table(seeded: Seeded) -> None:
    """Privileges that row-level security does not filter, on every table in public."""
    privileges = ["TRUNCATE", "REFERENCES", "TRIGGER"]
    version = await fetch(
        seeded.project.admin, "select current_setting('server_version_num')::int as v"
    )
    if version[0]["v"] >= 170000:
        privileges.append("MAINTAIN")
    held = await fetch(
        seeded.project.admin,
        """
        select c.relname, r.role, p.privilege
        from pg_class c, unnest($1::text[]) as r(role), unnest($2::text[]) as p(privilege)
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
          and has_table_privilege(r.role, c.oid, p.privilege)
        order by 1, 2, 3
        """,
        list(API_ROLES),
        privileges,
    )
    assert [tuple(r) for r in held] == []


# --- databases askbase cannot use: one readable line, nothing migrated ---------------


async def vector_is_trusted(cluster: str) -> bool:
    rows = await fetch(
        cluster,
        "select coalesce(bool_or(trusted), false) as trusted"
        " from pg_available_extension_versions where name = 'vector'",
    )
    return bool(rows[0]["trusted"])


async def bad_database(cluster: str, case: str) -> tuple[str, str]:
    """A database with exactly one thing wrong for a non-superuser role of its own: that
    role's DSN, and what a superuser runs to put it right. The API roles exist
    (supabase_init.sql made them on this server) and the role is a member of each."""
    role = f"askbase_{case}"
    await execute(cluster, f"create role {role} login nosuperuser")
    await execute(cluster, f"grant anon, authenticated, service_role to {role}")
    if case == "no_vector":
        # The role owns its database (it may create schemas and, in public, tables) but
        # pgvector is not installed, and only a superuser may install an untrusted one.
        dsn = await new_database(cluster, case)
        await execute(dsn, f"alter database {case} owner to {role}")
        fix = "create extension vector with schema public;"
        if await vector_is_trusted(cluster):  # then CREATE on the database would do
            await execute(dsn, f"revoke create on database {case} from {role}")
            fix += f" grant create on database {case} to {role};"
    elif case == "vector_elsewhere":
        dsn = await new_database(
            cluster,
            case,
            f"create schema weird; grant usage on schema weird to {role};"
            " create extension vector with schema weird;",
        )
        await execute(dsn, f"alter database {case} owner to {role}")
        fix = f'alter role {role} set search_path = "$user", public, weird;'
    elif case == "no_auth":
        # The database is the superuser's: the role may create tables in public, not schemas.
        dsn = await new_database(
            cluster,
            case,
            f"create extension vector; grant usage, create on schema public to {role};",
        )
        fix = f"grant create on database {case} to {role};"
    elif case == "no_create_in_public":
        # The role may create schemas, and auth and pgvector are there; public is not its.
        dsn = await new_database(
            cluster,
            case,
            f"create extension vector; create schema auth authorization {role};"
            f" grant create on database {case} to {role};",
        )
        fix = f"grant usage, create on schema public to {role};"
    else:
        raise AssertionError(case)
    return as_user(dsn, role), fix


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("no_vector", ["vector"]),
        ("vector_elsewhere", ["weird", "search_path"]),
        ("no_auth", ["auth"]),
        ("no_create_in_public", ["public"]),
    ],
)
async def test_migrate_refuses_a_database_it_cannot_use_in_one_line(
    cluster: str, project: Project, case: str, words: list[str]
) -> None:
    assert project  # the API roles now exist on this server, as on Supabase
    dsn, fix = await bad_database(cluster, case)
    result = await asyncio.to_thread(askbase_migrate, dsn)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("askbase: "), lines
    for word in words:
        assert word in lines[0], (word, lines[0])
    admin = as_user(dsn, "postgres")
    tables = await fetch(
        admin,
        "select relname from pg_class"
        " where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')",
    )
    assert [t["relname"] for t in tables] == [], "half-migrated"
    # That was the one thing wrong: put right, the same database migrates.
    await execute(admin, fix)
    fixed = await asyncio.to_thread(askbase_migrate, dsn)
    assert fixed.returncode == 0, fixed.stderr
