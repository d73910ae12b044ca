"""Graceful shutdown: on SIGTERM, take no new answers, let the running ones finish until
SHUTDOWN_GRACE_SECONDS, then close; what is still streaming is stored as INCOMPLETE."""

from __future__ import annotations

import socket
from typing import Any

import structlog
import uvicorn

from askbase.app.runtime.drain import Drain

log = structlog.get_logger("askbase.shutdown")


class AskbaseServer(uvicorn.Server):
    """uvicorn, draining answers before it closes connections.

    uvicorn's own shutdown closes every WebSocket at once (code 1012). Before it, this
    stops listening, marks the app as draining (`/health` answers 503, `chatStream`
    refuses with UNAVAILABLE) and waits up to SHUTDOWN_GRACE_SECONDS for the running
    answers. The lifespan then waits a moment more for the answers that the closing
    connections cancel to store their text.
    """

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        state: Any = getattr(getattr(self, "lifespan", None), "state", {}).get("askbase")
        if state is not None and not self.force_exit:
            for server in self.servers:
                server.close()
            drain: Drain = state.drain
            drain.draining = True
            running = drain.active
            finished = await drain.wait(state.settings.shutdown_grace_seconds)
            log.info("drained", answers=running, all_finished=finished)
        await super().shutdown(sockets)
