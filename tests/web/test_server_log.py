"""The harness's server-log check (tests/conftest.py) sees every kind of unhandled
error line: uvicorn's, asyncio's, Strawberry's and askbase's own."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest
import structlog

from tests.conftest import SERVER_LOG


async def test_the_server_log_check_sees_unhandled_errors(request: pytest.FixtureRequest) -> None:
    structlog.get_logger("askbase").error("unexpected error")
    logging.getLogger("uvicorn.error").error("Exception in ASGI application")
    logging.getLogger("strawberry.ws.task").error("Exception in worker task")

    async def fails() -> None:
        raise RuntimeError("nobody retrieves this")

    task = asyncio.get_running_loop().create_task(fails())
    await asyncio.sleep(0)
    del task
    gc.collect()  # asyncio reports the exception when the task is collected
    found = {error.event for error in SERVER_LOG.unexpected(request.node.nodeid, set())}
    assert found >= {
        "unexpected error",
        "Exception in ASGI application",
        "Exception in worker task",
        "Task exception was never retrieved",
    }, found
