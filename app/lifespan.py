"""The HTTP application's lifespan: the shared services, yielded as typed state."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette

from app.demo import DEMO_OWNER, ensure_demo, local_origins
from app.services import open_services
from app.settings import Settings
from app.state import AppState


def make_lifespan(settings: Settings) -> Any:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, AppState]]:
        async with open_services(settings) as state:
            if settings.demo_enabled:
                website_id = await ensure_demo(state, local_origins(settings.host, settings.port))
                print(
                    f"askbase: demo website {website_id} answers from askbase's own docs "
                    f"(owner token: askbase token --user-id {DEMO_OWNER})",
                    file=sys.stderr,
                )
            yield {"askbase": state}

    return lifespan
