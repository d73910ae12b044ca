"""The `askbase` command: serve, migrate, token, console-link, worker, ingest, crawl, reindex,
export-schema."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from pathlib import Path

from askbase.app.core.settings import ConfigError, Settings, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        for problem in error.problems:
            print(f"askbase: configuration error: {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def _migrate(dsn: str) -> list[str] | None:
    """Check and migrate the database; on failure print one readable line, return None."""
    import asyncpg

    from askbase.app.runtime.services import apply_migrations
    from askbase.database.migrate import MigrationError
    from askbase.database.preflight import DatabaseSetupError

    try:
        return asyncio.run(apply_migrations(dsn))
    except (DatabaseSetupError, MigrationError) as error:
        print(f"askbase: {error}", file=sys.stderr)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        print(f"askbase: cannot use the database at DATABASE_URL: {reason}", file=sys.stderr)
    return None


def serve(args: argparse.Namespace) -> int:
    from askbase.app.observability.logging import configure_logging
    from askbase.app.web.app import server

    settings = _settings()
    # A configured database is checked before the server starts, so that a database that
    # cannot host askbase is one readable line (the embedded one is set up by askbase).
    if (
        settings.database_url is not None
        and _migrate(settings.database_url.get_secret_value()) is None
    ):
        return 1
    configure_logging(json=settings.log_json, level=settings.log_level)
    host = args.host or settings.host
    port = args.port or settings.port
    settings = settings.model_copy(update={"host": host, "port": port})
    where = (
        "embedded PostgreSQL in " + str(settings.data_dir) if settings.embedded else "DATABASE_URL"
    )
    print(f"askbase: database: {where}", file=sys.stderr)
    if settings.graphiql_enabled:
        print(f"askbase: GraphiQL at http://{host}:{port}/graphql", file=sys.stderr)
    running = server(settings, host=host, port=port)
    running.run()
    return 0 if running.started else 1


def migrate(args: argparse.Namespace) -> int:
    from askbase.app.runtime.services import database

    settings = _settings()
    dsn, embedded = database(settings)
    try:
        applied = _migrate(dsn)
    finally:
        if embedded is not None:
            embedded.release()
    if applied is None:
        return 1
    print(f"applied: {', '.join(applied)}" if applied else "database is up to date")
    return 0


def token(args: argparse.Namespace) -> int:
    from askbase.app.auth.tokens import load_keys, mint_owner_token

    settings = _settings()
    keys = load_keys(settings)
    if keys.owner_secret is None:
        print(
            "askbase: owners sign in through Supabase here (no HS256 secret is configured)",
            file=sys.stderr,
        )
        return 2
    try:
        user_id = uuid.UUID(args.user_id) if args.user_id else uuid.uuid4()
    except ValueError:
        print("askbase: --user-id must be a UUID", file=sys.stderr)
        return 2
    print(mint_owner_token(keys.owner_secret, user_id, args.ttl))
    return 0


def console_link(args: argparse.Namespace) -> int:
    from askbase.app.cli.console import NoCodes
    from askbase.app.cli.console import console_link as new_link
    from askbase.app.tenancy.demo import DEMO_OWNER

    settings = _settings()
    try:
        user_id = uuid.UUID(args.user_id) if args.user_id else DEMO_OWNER
    except ValueError:
        print("askbase: --user-id must be a UUID", file=sys.stderr)
        return 2
    try:
        print(new_link(settings, user_id))
    except NoCodes:
        print(
            "askbase: owners sign in to the console through Supabase Auth here",
            file=sys.stderr,
        )
        return 2
    return 0


def worker(args: argparse.Namespace) -> int:
    from askbase.app.cli.commands import run_worker
    from askbase.app.observability.logging import configure_logging
    from askbase.app.runtime.workers import EMBEDDED_DSN_ENV

    if args.nice:  # before any thread starts: threads inherit it (onnxruntime's too)
        os.nice(args.nice)
    settings = _settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    concurrency = args.concurrency or max(1, settings.ingest_workers)
    dsn = os.environ.get(EMBEDDED_DSN_ENV)
    asyncio.run(run_worker(settings, concurrency, parent=args.parent, dsn=dsn))
    return 0


def ingest(args: argparse.Namespace) -> int:
    from rich.console import Console

    from askbase.app.cli.commands import ingest_paths
    from askbase.app.observability.logging import configure_logging

    settings = _settings()
    configure_logging(json=settings.log_json, level="WARNING")
    console = Console(stderr=True)
    try:
        website_id = uuid.UUID(args.website)
    except ValueError:
        print("askbase: --website must be a website id (UUID)", file=sys.stderr)
        return 2
    try:
        summary = asyncio.run(
            ingest_paths(settings, website_id, [Path(p) for p in args.paths], args.workers, console)
        )
    except (FileNotFoundError, LookupError) as error:
        print(f"askbase: {error}", file=sys.stderr)
        return 2
    print(
        f"ready: {len(summary.ready)} files ({summary.chunks} chunks); "
        f"already stored: {len(summary.skipped)}; failed: {len(summary.failed)}; "
        f"unsupported: {len(summary.unsupported)}"
    )
    for name, reason in summary.failed + summary.unsupported:
        print(f"  {name}: {reason}")
    return 1 if summary.failed else 0


def crawl(args: argparse.Namespace) -> int:
    from rich.console import Console

    from askbase.app.cli.crawl import crawl as run_crawl
    from askbase.app.core.errors import BadUserInput
    from askbase.app.knowledge.sources.owners import NewSource
    from askbase.app.observability.logging import configure_logging

    settings = _settings()
    configure_logging(json=settings.log_json, level="WARNING")
    try:
        website_id = uuid.UUID(args.website)
    except ValueError:
        print("askbase: --website must be a website id (UUID)", file=sys.stderr)
        return 2
    new = NewSource(
        url=args.url,
        kind=args.kind.lower(),
        include_patterns=tuple(args.include),
        exclude_patterns=tuple(args.exclude),
        max_pages=args.max_pages,
    )
    try:
        summary = asyncio.run(
            run_crawl(settings, website_id, new, args.workers, Console(stderr=True))
        )
    except BadUserInput as error:
        print(f"askbase: {error.message}", file=sys.stderr)
        return 2
    except LookupError as error:
        print(f"askbase: {error}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("askbase: interrupted; the same command resumes the sync", file=sys.stderr)
        return 130
    print(
        f"{'resumed' if summary.resumed else 'synced'} {summary.url} "
        f"(source {summary.source_id}): fetched {summary.fetched} pages; "
        f"stored: {summary.stored} ({summary.chunks} chunks); unchanged: {summary.unchanged}; "
        f"skipped: {summary.skipped}; removed: {summary.removed}; failed: {len(summary.failures)}"
    )
    if summary.error:
        print(f"  the sync failed: {summary.error}")
    for url, reason in summary.failures:
        print(f"  {url}: {reason}")
    return 0 if summary.ok else 1


def reindex(args: argparse.Namespace) -> int:
    from rich.console import Console

    from askbase.app.cli.commands import reindex as run_reindex
    from askbase.app.observability.logging import configure_logging

    settings = _settings()
    configure_logging(json=settings.log_json, level="WARNING")
    count = asyncio.run(run_reindex(settings, Console(stderr=True)))
    print(f"re-embedded {count} chunks")
    return 0


def export_schema(args: argparse.Namespace) -> int:
    from askbase.schema.build import export_sdl

    sdl = export_sdl()
    if args.output:
        Path(args.output).write_text(sdl, encoding="utf-8")
    else:
        sys.stdout.write(sdl)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="askbase", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("serve", help="serve the API (embedded database unless DATABASE_URL)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(run=serve)

    p = commands.add_parser("migrate", help="apply database migrations and exit")
    p.set_defaults(run=migrate)

    p = commands.add_parser("token", help="print an owner token (embedded or HS256 mode)")
    p.add_argument("--user-id", help="the owner's user id (UUID); a new one when omitted")
    p.add_argument("--ttl", type=int, default=30 * 24 * 3600, help="lifetime in seconds")
    p.set_defaults(run=token)

    p = commands.add_parser(
        "console-link", help="print a one-time sign-in link for the console (10 minutes)"
    )
    p.add_argument("--user-id", help="the owner's user id (UUID); default: the local owner")
    p.set_defaults(run=console_link)

    p = commands.add_parser("worker", help="run ingestion workers (until SIGINT/SIGTERM)")
    p.add_argument("--concurrency", type=int, help="workers in this process (INGEST_WORKERS)")
    p.add_argument("--nice", type=int, default=0, help="lower this process's CPU priority")
    p.add_argument("--parent", type=int, help=argparse.SUPPRESS)  # stop when it is gone
    p.set_defaults(run=worker)

    p = commands.add_parser("ingest", help="ingest files and folders into a website")
    p.add_argument("paths", nargs="+", help="files or folders (searched recursively)")
    p.add_argument("--website", required=True, help="the website id")
    p.add_argument("--workers", type=int, default=2, help="parallel ingestion workers")
    p.set_defaults(run=ingest)

    p = commands.add_parser(
        "crawl", help="add a website source (or reuse it) and sync it here, with progress"
    )
    p.add_argument("url", help="the start URL (a sitemap for --kind SITEMAP)")
    p.add_argument("--website", required=True, help="the website id")
    p.add_argument(
        "--kind",
        choices=("CRAWL", "SITEMAP", "PAGE"),
        default="CRAWL",
        type=str.upper,
        help="follow links (default), read a sitemap, or fetch one page",
    )
    p.add_argument("--max-pages", type=int, default=500, metavar="N", help="at most N pages")
    p.add_argument("--include", action="append", default=[], metavar="GLOB", help="URLs to keep")
    p.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="URLs to skip")
    p.add_argument("--workers", type=int, default=2, help="sync and ingestion workers")
    p.set_defaults(run=crawl)

    p = commands.add_parser("reindex", help="re-embed every chunk with the configured embedder")
    p.set_defaults(run=reindex)

    p = commands.add_parser("export-schema", help="print the GraphQL SDL")
    p.add_argument("--output", "-o", help="write to this file instead of stdout")
    p.set_defaults(run=export_schema)

    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
