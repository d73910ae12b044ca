"""The HTTP application's lifespan: the shared services, yielded as typed state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette

from app.services import open_services
from app.settings import Settings
from app.state import AppState


def make_lifespan(settings: Settings) -> Any:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, AppState]]:
        async with open_services(settings) as state:
            yield {"askbase": state}

    return lifespan
