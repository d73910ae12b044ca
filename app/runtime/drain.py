"""Answers in progress, counted so that a shutdown can let them finish (web/shutdown.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from askbase.app.core.errors import Unavailable


class Drain:
    """Counts the answers in progress, and refuses new ones once draining."""

    def __init__(self) -> None:
        self.draining = False
        self.active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def answering(self) -> AsyncIterator[None]:
        """Around one answer, its final write included."""
        if self.draining:
            raise Unavailable("The server is restarting; ask again in a moment.")
        self.active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.active -= 1
            if not self.active:
                self._idle.set()

    async def wait(self, seconds: float) -> bool:
        """True once no answer is running; False if some still are after `seconds`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), seconds)
        return self._idle.is_set()
