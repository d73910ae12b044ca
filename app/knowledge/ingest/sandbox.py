"""Parsing untrusted files in a child process that can reach nothing of the server's.

A decompression bomb, a file built to make a parser loop, or a parser bug that lets a
file run code must cost that one document and nothing else. So files are parsed by a
helper process (`python -m askbase.app.knowledge.ingest.sandbox`, single-threaded, with
the parsers imported once) that forks a child per file: a fork costs about a millisecond,
a fresh interpreter per file some 200 ms. The helper is started at the first file and
restarted if it dies.

What holds, for every child:

- Environment: the helper starts from `helper_environment()` (PATH, the locale, and the
  server's import path as PYTHONPATH), nothing else of the server's: no DATABASE_URL, no
  key, no secret. The server makes itself non-dumpable before the first helper starts,
  so that a process of its own user cannot read its /proc/<pid>/environ or its memory.
- Descriptors: the helper inherits only its stdin and stdout (close_fds), and keeps them
  from its children: a child has /dev/null on 0, 1 and 2 and its answer pipe on 3,
  nothing else.
- Memory: the helper reads each file and each answer straight into buffers that it wipes
  after use, so that a child finds nothing of an earlier file (another website's) in the
  memory it inherits.
- Limits: a session and process group of its own; RLIMIT_AS (PARSE_MEMORY_MB), RLIMIT_CPU
  (PARSE_TIMEOUT_SECONDS rounded up, plus a second), RLIMIT_NOFILE (16), RLIMIT_FSIZE (0:
  a parser writes no file), RLIMIT_CORE (0) and RLIMIT_NPROC (0: no fork; an exec stays
  possible, under the same limits, without new privileges: PR_SET_NO_NEW_PRIVS); killed
  when the helper dies (PR_SET_PDEATHSIG).
- Deadline: the helper kills the child's whole process group, then reaps the child and
  whatever of its group is left (the helper is a subreaper), so no zombie stays.
- Wire: framed data, never pickle. A request is a JSON header and the file's bytes; an
  answer is length-prefixed JSON ({"status": "ok", "blocks": [[kind, text, level], ...]}
  or a failure), read by the helper up to MAX_ANSWER_BYTES and checked by the server
  (`decode_answer`): anything malformed or oversized fails that document, nothing else.
- Probes (`ParserSandbox._probe`, for the tests) run in a child in place of a parse and
  report what it can see: its environment, descriptors, limits, memory.

Root and not root. Run as root (tests, CI), a child also drops to uid and gid 65534
(nobody) before it parses: root ignores RLIMIT_NPROC, may raise any limit back and may
read any file. If that drop is refused (a user namespace without uid 65534), the child
goes on as root and those three hold no more. Not root (the container runs as uid
10001), the limits hold as they are, but the child runs as the server's user: it can
read that user's files (not the server's environment or memory: see above). Neither way
is the network closed: that needs privileges or seccomp.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import importlib
import json
import math
import os
import resource
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, NoReturn, cast, get_args

from askbase.app.knowledge.ingest.detect import Format
from askbase.app.knowledge.ingest.parse import Block, BlockKind, ParseError, parse

MAX_TEXT_CHARS = 50_000_000  # what a parsed file may hand back
MAX_BLOCKS = 1_000_000
MAX_ANSWER_BYTES = 256 << 20  # an answer's JSON, on the wire
MAX_MESSAGE_CHARS = 1_000  # a failure's message
CHILD_MAX_FILES = 16  # RLIMIT_NOFILE: 0-3 and a few for a late import
NOBODY = 65534  # uid and gid of a child whose server runs as root

_MODULE = "askbase.app.knowledge.ingest.sandbox"
_FORMATS: frozenset[str] = frozenset(get_args(Format))
_KINDS: frozenset[str] = frozenset(get_args(BlockKind))
_ANSWER_FD = 3  # in the child
_REQUEST_PREFIX = 4  # bytes of a request header's length
_MAX_REQUEST_HEADER = 1 << 16
_ANSWER_PREFIX = 8  # bytes of an answer's length
_PATH = "/usr/local/bin:/usr/bin:/bin"
# prctl(2) options
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_NO_NEW_PRIVS = 38
# Imported by the helper, so that no child has to read them: the parsers, and what they
# import on their first file (found by parsing one file of each format).
_PRELOAD = (
    "docx",
    "markdown_it",
    "pypdf",
    "pypdf.filters",
    "selectolax.lexbor",
    "encodings.cp437",
    "encodings.utf_8_sig",
    "encodings.utf_16",
)


# The wire ------------------------------------------------------------------------------


def _encode(message: dict[str, object]) -> bytes:
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass")  # a PDF may hold a lone surrogate


def encode_blocks(blocks: list[Block]) -> bytes:
    """A parse's answer; ParseError when it is over the limits."""
    if len(blocks) > MAX_BLOCKS:
        raise ParseError(f"the file holds more than {MAX_BLOCKS:,} paragraphs")
    if sum(len(b.text) for b in blocks) > MAX_TEXT_CHARS:
        raise ParseError(f"the file holds more than {MAX_TEXT_CHARS:,} characters of text")
    payload = _encode({"status": "ok", "blocks": [[b.kind, b.text, b.level] for b in blocks]})
    if len(payload) > MAX_ANSWER_BYTES:
        raise ParseError(f"the file's text takes more than {MAX_ANSWER_BYTES >> 20} MB")
    return payload


def _malformed() -> ParseError:
    return ParseError("the parser's answer was malformed (the file may be built to attack it)")


def decode_answer(payload: bytes, *, memory_mb: int, timeout_seconds: float) -> list[Block]:
    """A child's answer, checked: its blocks, or ParseError for anything else (a failure,
    or an answer that is not what the format says, whatever its bytes)."""
    if len(payload) > MAX_ANSWER_BYTES:
        raise ParseError(f"the file's text takes more than {MAX_ANSWER_BYTES >> 20} MB")
    try:
        message = json.loads(payload.decode("utf-8", "surrogatepass"))
    except (ValueError, RecursionError, MemoryError):  # UnicodeDecodeError is a ValueError
        raise _malformed() from None
    if not isinstance(message, dict):
        raise _malformed()
    status = message.get("status")
    if status == "ok":
        return _blocks(message.get("blocks"))
    if status == "timeout":
        raise ParseError(
            f"reading the file took longer than {timeout_seconds:g} s "
            "(it may be built to expand without end)"
        )
    if status == "memory":
        raise ParseError(
            f"reading the file needs more than {memory_mb} MB of memory "
            "(it may be built to expand without end)"
        )
    text = message.get("message")
    if status == "error" and isinstance(text, str) and 0 < len(text) <= MAX_MESSAGE_CHARS:
        raise ParseError(text)
    raise _malformed()


def _blocks(value: object) -> list[Block]:
    if not isinstance(value, list) or len(value) > MAX_BLOCKS:
        raise _malformed()
    blocks: list[Block] = []
    chars = 0
    for item in value:
        if not isinstance(item, list) or len(item) != 3:
            raise _malformed()
        kind, text, level = item
        if not (
            isinstance(kind, str)
            and kind in _KINDS
            and isinstance(text, str)
            and type(level) is int
            and 0 <= level < 1 << 31
        ):
            raise _malformed()
        chars += len(text)
        if chars > MAX_TEXT_CHARS:
            raise ParseError(f"the file holds more than {MAX_TEXT_CHARS:,} characters of text")
        blocks.append(Block(cast(BlockKind, kind), text, level))
    return blocks


# The helper and its children -----------------------------------------------------------

_libc: Any = None


def _prctl(option: int, value: int) -> bool:
    """prctl(2); False where it is refused or missing (not Linux)."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        arguments = (ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0))
        return bool(_libc.prctl(ctypes.c_int(option), *arguments, ctypes.c_ulong(0)) == 0)
    except (OSError, AttributeError):
        return False


def _lower(limit: int, soft: int, hard: int | None = None) -> None:
    """Set a resource limit, never above the hard limit in force (which only root may
    raise)."""
    hard = soft if hard is None else hard
    _, current = resource.getrlimit(limit)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(limit, (soft, hard))


def _confine(
    answer_fd: int, memory_bytes: int, timeout: float, allow_fork: bool, helper: int
) -> None:
    """In a new child, before it reads a byte of the file."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.dup2(answer_fd, _ANSWER_FD)
    os.closerange(_ANSWER_FD + 1, max(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 1024))
    _lower(resource.RLIMIT_CORE, 0)
    _lower(resource.RLIMIT_FSIZE, 0)
    _lower(resource.RLIMIT_NOFILE, CHILD_MAX_FILES)
    cpu = math.ceil(timeout) + 1
    _lower(resource.RLIMIT_CPU, cpu, cpu + 1)  # SIGXCPU, then SIGKILL a second later
    if not allow_fork:
        _lower(resource.RLIMIT_NPROC, 0)  # counted per user: holds once not root
    if os.geteuid() == 0:  # each step that the kernel allows (a user namespace may not)
        with contextlib.suppress(OSError):
            os.setgroups([])
        with contextlib.suppress(OSError):
            os.setgid(NOBODY)
        with contextlib.suppress(OSError):
            os.setuid(NOBODY)
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)
    _prctl(_PR_SET_DUMPABLE, 0)
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid, which clears it
    if os.getppid() != helper:  # the helper died before PDEATHSIG was set
        os._exit(1)
    _lower(resource.RLIMIT_AS, memory_bytes)
    sys.dont_write_bytecode = True  # FSIZE 0: no .pyc to write


def _answer(fmt: Format, probe: str | None, data: bytes) -> bytes:
    """In the child: parse (or run a probe), and encode the answer."""
    try:
        if probe is not None:
            value = _PROBES[probe](data)
            if isinstance(value, bytes):
                return value
            return encode_blocks([Block("paragraph", json.dumps(value))])
        return encode_blocks(parse(fmt, data))
    except ParseError as error:
        return _encode({"status": "error", "message": str(error)[:MAX_MESSAGE_CHARS]})
    except MemoryError:
        return _encode({"status": "memory"})
    except Exception as error:  # not from parse(), which wraps what a library raises
        return _encode({"status": "error", "message": f"the parser failed ({error!r})"[:200]})


def _child(
    request: dict[str, Any], data: bytearray, pipe: tuple[int, int], allow_fork: bool, helper: int
) -> NoReturn:
    code = 1
    try:
        os.setsid()
        os.close(pipe[0])
        _confine(pipe[1], request["memory_bytes"], request["timeout"], allow_fork, helper)
        answer = _answer(request["format"], request.get("probe"), bytes(data))
        _write_all(_ANSWER_FD, len(answer).to_bytes(_ANSWER_PREFIX, "big"))
        _write_all(_ANSWER_FD, answer)
        code = 0
    finally:
        os._exit(code)


def _write_all(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_into(fd: int, buffer: bytearray, deadline: float | None = None) -> bool:
    """Fill `buffer` from `fd`, straight from the kernel: no other copy in this process.
    False at the end of file, or at the deadline."""
    view, got = memoryview(buffer), 0
    while got < len(buffer):
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return False
        count = os.readv(fd, [view[got:]])
        if not count:
            return False
        got += count
    return True


def _wipe(buffer: bytearray) -> None:
    """Zero a buffer that held a file or its text: each child is forked from this process,
    and must find nothing of an earlier file in the memory it inherits."""
    buffer[:] = bytes(len(buffer))


def _kill_group(pid: int) -> None:
    """SIGKILL to the child's process group, and to the child in case it had no group of
    its own yet. Its pid stays reserved until it is reaped, so neither can reach anyone
    else."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def _reap(pid: int) -> int:
    """Wait for the (killed) child, then for what of its group became ours, then any other
    orphan: no zombie stays."""
    _, status = os.waitpid(pid, 0)
    with contextlib.suppress(ChildProcessError):
        while True:
            os.waitpid(-pid, 0)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    return status


def _run_child(
    request: dict[str, Any], data: bytearray, allow_fork: bool
) -> tuple[bytearray | None, bytes]:
    """In the helper: fork, parse in the child, collect its answer or kill it. Returns the
    child's answer (to relay, then wipe), or None and the helper's own answer."""
    pipe = os.pipe()
    deadline = time.monotonic() + request["timeout"]
    helper = os.getpid()
    pid = os.fork()
    if pid == 0:
        _child(request, data, pipe, allow_fork, helper)
    os.close(pipe[1])
    answer: bytearray | None = None
    outcome = "none"
    try:
        prefix = bytearray(_ANSWER_PREFIX)
        if _read_into(pipe[0], prefix, deadline):
            size = int.from_bytes(prefix, "big")
            if size > MAX_ANSWER_BYTES:
                outcome = "too large"
            else:
                answer = bytearray(size)
                if _read_into(pipe[0], answer, deadline):
                    outcome = "answer"
        if outcome == "none" and time.monotonic() >= deadline:
            outcome = "timeout"
    finally:
        os.close(pipe[0])
        _kill_group(pid)  # done or not: nothing of the child outlives its answer
        status = _reap(pid)
    if outcome == "answer":
        return answer, b""  # checked by the server
    if answer is not None:
        _wipe(answer)
    if outcome == "too large":
        message = f"the file's text takes more than {MAX_ANSWER_BYTES >> 20} MB"
        return None, _encode({"status": "error", "message": message})
    if outcome == "timeout" or (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU):
        return None, _encode({"status": "timeout"})
    return None, _encode({"status": "memory"})  # it died without an answer


def _read_request(fd: int) -> tuple[dict[str, Any], bytearray] | None:
    """The next request (a JSON header, then the file), None at the end of stdin."""
    prefix = bytearray(_REQUEST_PREFIX)
    if not _read_into(fd, prefix):
        return None
    size = int.from_bytes(prefix, "big")
    if size > _MAX_REQUEST_HEADER:
        raise SystemExit("sandbox: request header too long")
    header = bytearray(size)
    if not _read_into(fd, header):
        return None
    try:
        request = json.loads(header)
    except ValueError:
        raise SystemExit("sandbox: malformed request") from None
    if not (
        isinstance(request, dict)
        and request.get("format") in _FORMATS
        and request.get("probe", None) in (None, *_PROBES)
        and type(request.get("memory_bytes")) is int
        and request["memory_bytes"] > 0
        and type(request.get("timeout")) in (int, float)
        and request["timeout"] > 0
        and type(request.get("size")) is int
        and request["size"] >= 0
    ):
        raise SystemExit("sandbox: malformed request")
    data = bytearray(request["size"])
    if not _read_into(fd, data):
        return None
    return request, data


def serve(*, allow_fork: bool = False) -> None:
    """The helper's loop: one request at a time from stdin, one answer each on stdout.
    A file and its text pass through buffers that are wiped after use."""
    requests, answers = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # a stray print goes to the log, not into the answers
    os.close(null)
    _prctl(_PR_SET_DUMPABLE, 0)  # nor can another process of this user read ours
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)  # a child's orphans become ours to reap
    for name in _PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    while (next_request := _read_request(requests)) is not None:
        request, data = next_request
        try:
            relayed, own = _run_child(request, data, allow_fork)
        finally:
            _wipe(data)
        try:
            answer = own if relayed is None else relayed
            _write_all(answers, len(answer).to_bytes(_ANSWER_PREFIX, "big"))
            _write_all(answers, answer)
        finally:
            if relayed is not None:
                _wipe(relayed)


def helper_environment() -> dict[str, str]:
    """The helper's whole environment: what Python needs to start and import askbase and
    its dependencies as the server does, and nothing of the server's environment."""
    entries: list[str] = []
    for entry in sys.path:
        path = os.path.abspath(entry or os.curdir)
        if path not in entries and os.path.exists(path):
            entries.append(path)
    return {
        "PATH": _PATH,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(entries),
    }


# Probes: what the tests ask a child to report, from where a parser runs ----------------


def _probe_environ(_: bytes) -> object:
    return sorted(os.environ)


def _probe_fds(_: bytes) -> object:
    found: dict[str, str] = {}
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor, closed by now
            found[name] = os.readlink(f"/proc/self/fd/{name}")
    return found


def _probe_limits(_: bytes) -> object:
    names = ("AS", "CPU", "CORE", "FSIZE", "NOFILE", "NPROC")
    return {
        "uid": os.getuid(),
        "gid": os.getgid(),
        "groups": os.getgroups(),
        "pid": os.getpid(),
        "pgid": os.getpgid(0),
        "sid": os.getsid(0),
        "limits": {n: list(resource.getrlimit(getattr(resource, f"RLIMIT_{n}"))) for n in names},
    }


def _probe_read(path: bytes) -> object:
    try:
        with open(path.decode(), "rb") as file:
            return {"read": len(file.read(4096))}
    except OSError as error:
        return {"error": errno.errorcode.get(error.errno or 0, str(error))}


def _probe_fork(_: bytes) -> object:
    """Fork a grandchild; both sleep until the deadline kills them."""
    try:
        pid = os.fork()
    except OSError as error:
        return {"forked": False, "error": errno.errorcode.get(error.errno or 0, str(error))}
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    time.sleep(60)
    return {"forked": True, "pid": pid}


def _probe_raw(data: bytes) -> object:
    return data  # answered as it is: a hostile child's answer


def _probe_remnants(reversed_needle: bytes) -> object:
    """How often `needle` (sent reversed) lies in this child's writable memory, beyond the
    probe's own copy and a control copy that the search must find: traces of an earlier
    file's bytes or text, inherited from the helper. Searched in place (memmem), so that
    the search itself makes no copy."""
    needle = reversed_needle[::-1]
    control = bytearray(needle)
    own = id(needle) + sys.getsizeof(b"") - 1  # where a bytes object keeps its bytes
    controls = ctypes.addressof((ctypes.c_char * len(control)).from_buffer(control))
    libc = ctypes.CDLL(None)
    libc.memmem.restype = ctypes.c_void_p
    libc.memmem.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps.read().splitlines()]
    found, seen_control = 0, False
    for fields in regions:
        name = fields[5] if len(fields) > 5 else ""
        if "rw" not in fields[1] or name not in ("", "[heap]", "[stack]"):
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        while start < end and (hit := libc.memmem(start, end - start, needle, len(needle))):
            seen_control |= hit == controls
            found += hit not in (own, controls)
            start = hit + 1
    return {"found": found, "control": seen_control}


_PROBES: dict[str, Callable[[bytes], object]] = {
    "environ": _probe_environ,
    "fds": _probe_fds,
    "limits": _probe_limits,
    "read": _probe_read,
    "fork": _probe_fork,
    "raw": _probe_raw,
    "remnants": _probe_remnants,
}


# The server's side ---------------------------------------------------------------------


class _BadFrame(Exception):
    pass


class ParserSandbox:
    """The server's side: one helper process, one file at a time."""

    def __init__(self, *, allow_fork: bool = False) -> None:
        """`allow_fork` leaves RLIMIT_NPROC as it is in the children: for the test that
        the deadline reaches a child's own children (a parser never starts a process)."""
        self._allow_fork = allow_fork
        self._helper: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def parse(
        self, fmt: Format, data: bytes, *, memory_mb: int, timeout_seconds: float
    ) -> list[Block]:
        """parse(), in a child process; ParseError when the file is too big or too slow."""
        answer = await self._ask({"format": fmt}, data, memory_mb, timeout_seconds)
        if len(answer) > 1 << 20:  # a long answer is decoded off the event loop
            return await asyncio.to_thread(
                decode_answer, answer, memory_mb=memory_mb, timeout_seconds=timeout_seconds
            )
        return decode_answer(answer, memory_mb=memory_mb, timeout_seconds=timeout_seconds)

    async def _probe(
        self,
        name: str,
        argument: bytes = b"",
        *,
        timeout_seconds: float = 10,
        memory_mb: int = 1024,
    ) -> Any:
        """For tests: run probe `name` in a child, confined as a parser is; its report."""
        answer = await self._ask(
            {"format": "text", "probe": name}, argument, memory_mb, timeout_seconds
        )
        blocks = decode_answer(answer, memory_mb=memory_mb, timeout_seconds=timeout_seconds)
        return json.loads(blocks[0].text)

    async def _ask(
        self, header: dict[str, object], data: bytes, memory_mb: int, timeout_seconds: float
    ) -> bytes:
        request = json.dumps(
            {
                **header,
                "memory_bytes": memory_mb << 20,
                "timeout": timeout_seconds,
                "size": len(data),
            }
        ).encode()
        async with self._lock:
            helper = await self._start()
            assert helper.stdin is not None and helper.stdout is not None
            try:
                async with asyncio.timeout(timeout_seconds + 30):
                    helper.stdin.write(len(request).to_bytes(_REQUEST_PREFIX, "big") + request)
                    helper.stdin.write(data)
                    await helper.stdin.drain()
                    prefix = await helper.stdout.readexactly(_ANSWER_PREFIX)
                    size = int.from_bytes(prefix, "big")
                    if size > MAX_ANSWER_BYTES:
                        raise _BadFrame(size)
                    return await helper.stdout.readexactly(size)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, _BadFrame) as error:
                await self.aclose()
                raise ParseError("the file could not be read (the parser stopped)") from error
            except BaseException:  # cancelled: its answer would be taken for the next one's
                await self.aclose()
                raise

    async def _start(self) -> asyncio.subprocess.Process:
        helper = self._helper
        if helper is None or helper.returncode is not None:
            # A child runs as this user when the server is not root: keep this process's
            # environment and memory from it.
            _prctl(_PR_SET_DUMPABLE, 0)
            helper = self._helper = await asyncio.create_subprocess_exec(
                sys.executable,
                "-s",  # no user site-packages: the import path is PYTHONPATH's
                "-P",  # nor the working directory
                "-m",
                _MODULE,
                *(["--allow-fork"] if self._allow_fork else []),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=helper_environment(),
                cwd="/",
                close_fds=True,
                start_new_session=True,
            )
        return helper

    async def aclose(self) -> None:
        helper, self._helper = self._helper, None
        if helper is not None and helper.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                helper.kill()  # its children die with it (PR_SET_PDEATHSIG)
            await helper.wait()


if __name__ == "__main__":
    serve(allow_fork="--allow-fork" in sys.argv[1:])
