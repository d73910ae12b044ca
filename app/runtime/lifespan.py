"""The HTTP application's lifespan: the shared services, yielded as typed state."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

from starlette.applications import Starlette

from askbase.app.auth import console
from askbase.app.core.settings import Settings
from askbase.app.observability.tracing import Tracing, tracing_requested
from askbase.app.runtime.services import open_services
from askbase.app.runtime.state import AppState
from askbase.app.tenancy.demo import DEMO_OWNER, ensure_demo, local_origins


async def with_demo(state: AppState, settings: Settings) -> AppState:
    website_id = await ensure_demo(state, local_origins(settings.host, settings.port))
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
    print(
        f"askbase: demo website {website_id} answers from askbase's own docs; "
        f"try it at http://{host}:{settings.port}/demo "
        f"(owner token: askbase token --user-id {DEMO_OWNER})",
        file=sys.stderr,
    )
    return dataclasses.replace(state, demo_website_id=website_id)


async def print_console_link(state: AppState) -> None:
    """The console's sign-in link, for the local owner (who owns the demo website)."""
    async with state.db.service() as conn:
        code = await console.issue_code(conn, DEMO_OWNER)
    link = console.sign_in_link(state.settings, code)
    print(
        f"askbase: the console at {link} (one sign-in within 10 minutes; "
        "askbase console-link prints a new link)",
        file=sys.stderr,
    )


def make_lifespan(settings: Settings) -> Any:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, AppState]]:
        tracing = Tracing("askbase", version("askbase")) if tracing_requested() else None
        try:
            async with open_services(settings) as state:
                if settings.demo_enabled:
                    state = await with_demo(state, settings)
                if settings.development and console.codes_enabled(settings, state.keys):
                    await print_console_link(state)
                yield {"askbase": state}
                # Answers cut by closing connections store their text before the pool goes.
                await state.drain.wait(5)
        finally:
            if tracing is not None:
                tracing.shutdown()

    return lifespan
