"""Property- and grammar-based fuzzing of every entry point (bench/fuzz.py) against the
in-process server: HTTP bodies, GET parameters, multipart parts and the frames of both
WebSocket protocols. No 5xx, no INTERNAL, no abnormal close; the harness's server-log
check (tests/conftest.py) fails the test on any error the server logs meanwhile.

The fuzzing client runs in a process of its own (it would otherwise share this
process's interpreter lock with the server), with a bounded, derandomized budget: the
same cases on every run and machine. `bench/fuzz.py --seconds 300` soaks the same
targets for longer with fresh seeds."""

from __future__ import annotations

import asyncio
import json
import sys

from bench.fuzz import LEGACY, ROOT, TRANSPORT
from tests.conftest import Api, owner_token

EXAMPLES = {
    "http_bodies": 300,
    "http_get": 150,
    "multipart": 150,
    f"ws_{TRANSPORT}": 120,
    f"ws_{LEGACY}": 100,
}


async def test_fuzzed_transports_answer_cleanly(api: Api) -> None:
    budget = ",".join(f"{target}={n}" for target, n in EXAMPLES.items())
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bench" / "fuzz.py"),
        "--url",
        api.base_url,
        "--token",
        owner_token(),
        "--examples",
        budget,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 300)
    assert process.returncode == 0, output.decode()[-6000:]
    result = json.loads(output.decode().splitlines()[-1])
    seen = result["outcomes"]
    for target, examples in EXAMPLES.items():
        assert result["cases"][target] >= examples, result
    # The cases reach past the decoder: some run, some fail validation or decoding.
    assert seen["http_bodies"].get("ok", 0) > 0, seen
    assert seen["http_bodies"].get("BAD_USER_INPUT", 0) > 0, seen
    assert seen[f"ws_{TRANSPORT}"].get("closed 4400", 0) > 0, seen
    assert seen[f"ws_{LEGACY}"].get("open", 0) > 0, seen
