"""Parsing untrusted files in a child process, under a memory limit and a deadline.

A decompression bomb or a PDF whose objects multiply (nested forms drawing each other)
can take any amount of memory or time inside a parser. Each file is parsed in a process
forked from a forkserver that has the parsers imported (a few milliseconds per file):
its address space is capped with RLIMIT_AS, and it is killed at the deadline. The
worker then fails the document with a clear error, and nothing else is affected.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import resource
from multiprocessing.connection import Connection
from typing import Any

from app.ingest.detect import Format
from app.ingest.parse import Block, ParseError, parse

MAX_TEXT_CHARS = 50_000_000  # what a parsed file may hand back

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["app.ingest.parse"])


def _child(conn: Connection, fmt: Format, data: bytes, memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    result: tuple[str, Any]
    try:
        blocks = parse(fmt, data)
        if sum(len(b.text) for b in blocks) > MAX_TEXT_CHARS:
            raise ParseError(f"the file holds more than {MAX_TEXT_CHARS:,} characters of text")
        result = ("ok", blocks)
    except ParseError as error:
        result = ("error", str(error))
    except MemoryError:
        result = ("memory", None)
    try:
        conn.send(result)
    except MemoryError:
        conn.send(("memory", None))
    finally:
        conn.close()


async def parse_isolated(
    fmt: Format, data: bytes, *, memory_mb: int, timeout_seconds: float
) -> list[Block]:
    """parse(), in a child process; ParseError when the file is too big or too slow."""
    receiver, sender = _context.Pipe(duplex=False)
    process = _context.Process(
        target=_child, args=(sender, fmt, data, memory_mb << 20), daemon=True
    )
    await asyncio.to_thread(process.start)
    sender.close()
    try:
        if not await asyncio.to_thread(receiver.poll, timeout_seconds):
            raise ParseError(
                f"reading the file took longer than {timeout_seconds:g} s "
                "(it may be built to expand without end)"
            )
        try:
            kind, value = await asyncio.to_thread(receiver.recv)
        except EOFError:  # the child died: killed by the kernel, or out of memory
            kind, value = "memory", None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        await asyncio.to_thread(process.join, 5)
        with contextlib.suppress(ValueError):
            process.close()
    if kind == "memory":
        raise ParseError(
            f"reading the file needs more than {memory_mb} MB of memory "
            "(it may be built to expand without end)"
        )
    if kind == "error":
        raise ParseError(value)
    blocks: list[Block] = value
    return blocks
