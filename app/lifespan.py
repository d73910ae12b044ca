"""Start-up and shutdown: database (embedded or configured), migrations, pool, keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

import asyncpg
import structlog
from starlette.applications import Starlette

from app.auth import TokenVerifier, load_keys
from app.ratelimit import RateLimits
from app.settings import Settings
from app.state import AppState
from database.embedded import EmbeddedDatabase
from database.migrate import migrate
from database.pool import Database, create_pool

log = structlog.get_logger("askbase")


def database(settings: Settings) -> tuple[str, EmbeddedDatabase | None]:
    """The configured DATABASE_URL, or an embedded server started for this process."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value(), None
    embedded = EmbeddedDatabase(settings.data_dir)
    return embedded.uri, embedded


async def apply_migrations(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def make_lifespan(settings: Settings) -> Any:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, AppState]]:
        dsn, embedded = database(settings)
        try:
            applied = await apply_migrations(dsn)
            if applied:
                log.info("migrations applied", versions=applied)
            pool = await create_pool(
                dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max
            )
        except BaseException:
            if embedded is not None:
                embedded.release()
            raise
        keys = load_keys(settings)
        state = AppState(
            settings=settings,
            db=Database(pool),
            keys=keys,
            verifier=TokenVerifier(keys, settings.jwt_audience),
            limits=RateLimits(
                settings.rate_limit_ip_per_minute, settings.rate_limit_website_per_minute
            ),
            version=version("askbase"),
        )
        log.info("ready", embedded=settings.embedded, environment=settings.environment)
        try:
            yield {"askbase": state}
        finally:
            await state.db.close()
            if embedded is not None:
                embedded.release()
            log.info("stopped")

    return lifespan
