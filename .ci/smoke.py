"""The README's quick start, checked as a newcomer meets it: `askbase serve` on an empty
data directory (so with the embedded PostgreSQL and the demo website), `/health` answers
200, and a visitor of the demo website gets an answer streamed token by token.

Standard library only, so that it runs in a virtual environment that holds nothing but
askbase's runtime dependencies. Used by .ci/run (before the test extras are installed)
and by tests/runtime/test_install.py (from a venv that holds only the built wheel).

    python .ci/smoke.py --askbase .venv/bin/askbase [--require-sources]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

QUESTION = "How do I run askbase?"
STREAM = """subscription($c: ID!, $m: String!) { chatStream(chatId: $c, message: $m) {
  __typename
  ... on SourcesFound { sources { title } }
  ... on TokenDelta { text }
  ... on MessageDone { message { content status } }
  ... on ChatFailed { code detail } } }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def post(url: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        answer: dict[str, Any] = json.load(response)
    if answer.get("errors"):
        raise SystemExit(f"smoke: {body['query'][:40]}... failed: {answer['errors']}")
    return answer


def stream(url: str, body: dict[str, Any], headers: dict[str, str]) -> list[dict[str, Any]]:
    """chatStream over server-sent events (graphql-sse, distinct connections mode)."""
    request = urllib.request.Request(  # noqa: S310
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "accept": "text/event-stream", **headers},
    )
    events: list[dict[str, Any]] = []
    kind = ""
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
        for raw in response:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind == "next":
                events.append(json.loads(line.removeprefix("data: "))["data"]["chatStream"])
    return events


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--askbase", required=True, help="the askbase executable to run")
    parser.add_argument("--require-sources", action="store_true")
    parser.add_argument("--timeout", type=float, default=240)
    args = parser.parse_args()

    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="askbase-smoke-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(ASKBASE_DATA_DIR=str(data), HOST="127.0.0.1", PORT=str(port))
    log_path = data / "serve.log"
    log = log_path.open("w")
    server = subprocess.Popen(  # noqa: S603
        [str(Path(args.askbase).absolute()), "serve"],
        env=env,
        cwd=data,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + args.timeout
    try:
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("smoke: askbase serve did not start:\n" + log_path.read_text())
            time.sleep(0.2)
        print(f"smoke: /health 200 on {base}", flush=True)
        found = re.search(r"demo website ([0-9a-f-]{36})", log_path.read_text())
        if found is None:
            raise SystemExit("smoke: no demo website announced:\n" + log_path.read_text())
        website = found.group(1)
        origin = {"origin": base}
        session = post(
            base + "/graphql",
            {
                "query": "mutation($w: ID!) { startSession(websiteId: $w) { token } }",
                "variables": {"w": website},
            },
            origin,
        )
        visitor = {**origin, "authorization": "Bearer " + session["data"]["startSession"]["token"]}
        while True:  # the demo documents are ingested in the background after start
            chat = post(
                base + "/graphql",
                {
                    "query": "mutation($w: ID!) { createChat(websiteId: $w) { id } }",
                    "variables": {"w": website},
                },
                visitor,
            )["data"]["createChat"]["id"]
            events = stream(
                base + "/graphql",
                {"query": STREAM, "variables": {"c": chat, "m": QUESTION}},
                visitor,
            )
            kinds = [e["__typename"] for e in events]
            if not (kinds and kinds[0] == "SourcesFound" and kinds[-1] == "MessageDone"):
                raise SystemExit(f"smoke: unexpected events: {events}")
            if "TokenDelta" not in kinds:
                raise SystemExit(f"smoke: nothing was streamed: {events}")
            sources = events[0]["sources"]
            if sources or not args.require_sources:
                break
            if time.monotonic() > deadline:
                raise SystemExit("smoke: the demo website never answered from its documents")
            time.sleep(2)
        answer = events[-1]["message"]["content"]
        print(
            f"smoke: streamed {kinds.count('TokenDelta')} token events from "
            f"{len(sources)} sources: {answer[:80]!r}...",
            flush=True,
        )
        return 0
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
