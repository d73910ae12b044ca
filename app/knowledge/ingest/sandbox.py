"""Parsing untrusted files in a child process, under a memory limit and a deadline.

A decompression bomb, or a file built to make a parser loop, can take any amount of
memory or time inside a parsing library. So files are parsed by a helper process
(`python -m app.ingest.sandbox`, single-threaded, with the parsers imported once) that
forks a child per file: the child caps its address space with RLIMIT_AS and is killed
at the deadline. The document then fails with a clear error, and nothing else is
affected. A fork of the helper costs about a millisecond; the helper is started at the
first file and restarted if it dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import resource
import select
import signal
import sys
import time
from typing import Any

from askbase.app.knowledge.ingest.detect import Format
from askbase.app.knowledge.ingest.parse import Block, ParseError, parse

MAX_TEXT_CHARS = 50_000_000  # what a parsed file may hand back
_HEADER = 8


def _send(stream: Any, message: object) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(payload).to_bytes(_HEADER, "big") + payload)
    stream.flush()


def _parse_in_child(fmt: Format, data: bytes) -> tuple[str, Any]:
    try:
        blocks = parse(fmt, data)
        if sum(len(b.text) for b in blocks) > MAX_TEXT_CHARS:
            raise ParseError(f"the file holds more than {MAX_TEXT_CHARS:,} characters of text")
        return ("ok", blocks)
    except ParseError as error:
        return ("error", str(error))
    except MemoryError:
        return ("memory", None)


def _run_child(fmt: Format, data: bytes, memory_bytes: int, timeout: float) -> tuple[str, Any]:
    """In the helper: fork, parse in the child, collect its answer or kill it."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        code = 0
        try:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
            with os.fdopen(write_end, "wb") as out:
                out.write(pickle.dumps(_parse_in_child(fmt, data)))
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    timed_out = False
    with os.fdopen(read_end, "rb", buffering=0) as answer:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                os.kill(pid, signal.SIGKILL)
                break
            if select.select([answer], [], [], remaining)[0]:
                chunk = answer.read(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    os.waitpid(pid, 0)
    if timed_out:
        return ("timeout", None)
    if not chunks:  # the child died without an answer: killed, or out of memory
        return ("memory", None)
    result: tuple[str, Any] = pickle.loads(b"".join(chunks))  # noqa: S301 (our own child)
    return result


def serve() -> None:
    """The helper's loop: one request at a time from stdin, one answer each on stdout."""
    import docx  # noqa: F401 (imported once here, so that no child imports them again)
    import markdown_it  # noqa: F401
    import pypdf  # noqa: F401
    import selectolax.lexbor  # noqa: F401

    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    while header := requests.read(_HEADER):
        request = requests.read(int.from_bytes(header, "big"))
        fmt, data, memory_bytes, timeout = pickle.loads(request)  # noqa: S301 (our parent)
        _send(answers, _run_child(fmt, data, memory_bytes, timeout))


class ParserSandbox:
    """The parent's side: one helper process, one file at a time."""

    def __init__(self) -> None:
        self._helper: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def parse(
        self, fmt: Format, data: bytes, *, memory_mb: int, timeout_seconds: float
    ) -> list[Block]:
        """parse(), in a child process; ParseError when the file is too big or too slow."""
        async with self._lock:
            helper = self._helper
            if helper is None or helper.returncode is not None:
                helper = self._helper = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "askbase.app.knowledge.ingest.sandbox",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                )
            assert helper.stdin is not None and helper.stdout is not None
            request = pickle.dumps((fmt, data, memory_mb << 20, timeout_seconds))
            try:
                helper.stdin.write(len(request).to_bytes(_HEADER, "big") + request)
                await helper.stdin.drain()
                async with asyncio.timeout(timeout_seconds + 30):
                    size = int.from_bytes(await helper.stdout.readexactly(_HEADER), "big")
                    answer = await helper.stdout.readexactly(size)
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
                await self.aclose()
                raise ParseError("the file could not be read (the parser stopped)") from error
        kind, value = pickle.loads(answer)  # noqa: S301 (our own helper)
        if kind == "ok":
            blocks: list[Block] = value
            return blocks
        if kind == "timeout":
            raise ParseError(
                f"reading the file took longer than {timeout_seconds:g} s "
                "(it may be built to expand without end)"
            )
        if kind == "memory":
            raise ParseError(
                f"reading the file needs more than {memory_mb} MB of memory "
                "(it may be built to expand without end)"
            )
        raise ParseError(value)

    async def aclose(self) -> None:
        helper, self._helper = self._helper, None
        if helper is not None and helper.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                helper.kill()
            await helper.wait()


if __name__ == "__main__":
    serve()
