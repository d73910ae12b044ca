"""Structured logs: JSON lines with the request id when LOG_JSON is set."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def test_json_logs_carry_the_request_id() -> None:
    """Run in a child process so its logging configuration stays its own."""
    script = textwrap.dedent(
        """
        import asyncio, structlog
        from askbase.app.observability.logging import RequestIdMiddleware, configure_logging

        configure_logging(json=True, level="INFO")

        async def app(scope, receive, send):
            structlog.get_logger("test").info("inside", secret_free=True)
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        async def main():
            sent = []
            async def receive():
                return {"type": "http.request", "body": b""}
            async def send(message):
                sent.append(message)
            scope = {"type": "http", "method": "GET", "path": "/x",
                     "headers": [(b"x-request-id", b"abc-123")]}
            await RequestIdMiddleware(app)(scope, receive, send)
            assert (b"x-request-id", b"abc-123") in sent[0]["headers"]

        asyncio.run(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    lines = [json.loads(line) for line in result.stderr.strip().splitlines()]
    assert [line["event"] for line in lines] == ["inside", "request"]
    assert all(line["request_id"] == "abc-123" for line in lines)
    assert lines[1]["status"] == 204 and lines[1]["level"] == "info"
