"""The parsing sandbox, seen from where a parser runs: what code that a file smuggles into a
parser could reach. Each probe runs in a real child of the real helper, in the place of
parse() and confined as it is; the server's side is the one the workers use."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import pickle
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from askbase.app.knowledge.ingest import sandbox as module
from askbase.app.knowledge.ingest.parse import Block, ParseError
from askbase.app.knowledge.ingest.sandbox import (
    ParserSandbox,
    decode_answer,
    encode_blocks,
    helper_environment,
)

SECRETS = {
    "DATABASE_URL": "postgresql://askbase:hunter2@db.internal/askbase",
    "SUPABASE_SERVICE_ROLE_KEY": "service-role-key",
    "SUPABASE_JWT_SECRET": "jwt-secret",
    "ASKBASE_SESSION_SECRET": "session-secret",
    "OPENAI_API_KEY": "sk-test",
    "GITHUB_TOKEN": "ghp_test",
}
ALLOWED = {"PATH", "LANG", "LC_ALL", "PYTHONPATH"}


@pytest.fixture
async def sandbox(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ParserSandbox]:
    """A sandbox whose helper starts from a server environment full of secrets."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    started = ParserSandbox()
    try:
        yield started
    finally:
        await started.aclose()


def helper_pid(sandbox: ParserSandbox) -> int:
    assert sandbox._helper is not None
    return sandbox._helper.pid


def listed(pid: int) -> bool:
    """Whether `pid` is in /proc: running, or a zombie."""
    return os.path.exists(f"/proc/{pid}")


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid`, zombies included."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def test_the_helper_environment_is_built_from_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    environment = helper_environment()
    assert set(environment) == ALLOWED
    for value in environment.values():
        assert not any(secret in value for secret in SECRETS.values())
    assert all(os.path.isabs(p) for p in environment["PYTHONPATH"].split(os.pathsep))


async def test_a_parser_sees_none_of_the_servers_secrets(sandbox: ParserSandbox) -> None:
    blocks = await sandbox.parse(
        "text", b"Our warranty lasts two years.", memory_mb=512, timeout_seconds=5
    )
    assert blocks == [Block("paragraph", "Our warranty lasts two years.")]
    keys = await sandbox._probe("environ")
    assert set(keys) <= ALLOWED, keys
    # Nor through /proc: the server's environment is out of the child's reach.
    for pid in (os.getpid(), os.getppid()):
        report = await sandbox._probe("read", f"/proc/{pid}/environ".encode())
        assert report == {"error": "EACCES"}, (pid, report)


async def test_a_parser_finds_nothing_of_an_earlier_file_in_its_memory(
    sandbox: ParserSandbox,
) -> None:
    """Every child is a fork of one helper: what the helper kept of a file (another
    website's, say), each later child would inherit."""
    for size in (100, 5_000, 300_000):
        marker = f"website-a-{uuid.uuid4().hex}".encode()
        page = b"<p>" + marker + b" " + b"filler " * (size // 7) + b"</p>"
        blocks = await sandbox.parse("html", page, memory_mb=512, timeout_seconds=5)
        assert marker.decode() in blocks[0].text
        report = await sandbox._probe("remnants", marker[::-1])
        assert report == {"found": 0, "control": True}, (size, report)


async def test_a_parser_holds_no_descriptor_but_its_answer_pipe(sandbox: ParserSandbox) -> None:
    fds = await sandbox._probe("fds")
    assert sorted(fds) == ["0", "1", "2", "3"], fds
    assert fds["0"] == fds["1"] == fds["2"] == "/dev/null"
    assert fds["3"].startswith("pipe:")
    servers = set()  # the pipes the server holds: its ends of the helper's stdin and stdout
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            servers.add(os.readlink(f"/proc/self/fd/{fd}"))
    assert fds["3"] not in servers


async def test_a_parser_runs_in_a_session_of_its_own_under_limits(
    sandbox: ParserSandbox,
) -> None:
    report = await sandbox._probe("limits", memory_mb=512, timeout_seconds=5)
    assert report["pid"] == report["pgid"] == report["sid"] != helper_pid(sandbox)
    limits = report["limits"]
    assert limits["AS"] == [512 << 20, 512 << 20]
    assert limits["CPU"] == [6, 7]  # the 5 s deadline, and a second
    assert limits["FSIZE"] == [0, 0]
    assert limits["CORE"] == [0, 0]
    assert limits["NOFILE"] == [16, 16]
    assert limits["NPROC"] == [0, 0]
    if os.geteuid() == 0:  # root would ignore RLIMIT_NPROC and could raise any limit
        assert report["uid"] == report["gid"] == 65534 and report["groups"] == []
    assert await sandbox._probe("fork") == {"forked": False, "error": "EAGAIN"}


async def test_the_deadline_kills_the_childs_whole_group_and_leaves_no_zombie() -> None:
    sandbox = ParserSandbox(allow_fork=True)  # so that the child can fork at all
    try:
        probe = asyncio.create_task(sandbox._probe("fork", timeout_seconds=1.5))
        child = grandchild = None
        started = time.monotonic()
        while grandchild is None and time.monotonic() - started < 1.4:
            await asyncio.sleep(0.05)
            if sandbox._helper is not None and (found := children(helper_pid(sandbox))):
                child = found[0]
                grandchild = next(iter(children(child)), None)
        assert child is not None and grandchild is not None, "no grandchild was seen"
        assert os.getpgid(grandchild) == os.getsid(grandchild) == child
        with pytest.raises(ParseError, match=r"longer than 1\.5 s"):
            await probe
        for pid in (child, grandchild):
            assert not listed(pid), f"{pid} outlived the deadline"
        assert children(helper_pid(sandbox)) == []  # nothing left, not even a zombie
        blocks = await sandbox.parse("text", b"Still here.", memory_mb=512, timeout_seconds=5)
        assert [b.text for b in blocks] == ["Still here."]
    finally:
        await sandbox.aclose()


async def test_a_cancelled_parse_does_not_hand_its_answer_to_the_next(
    sandbox: ParserSandbox,
) -> None:
    slow = b"<html><body>" + b"<div>" * 200_000 + b"text" + b"</div>" * 200_000
    parsing = asyncio.create_task(sandbox.parse("html", slow, memory_mb=1024, timeout_seconds=3))
    await asyncio.sleep(0.3)
    parsing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await parsing
    blocks = await sandbox.parse("text", b"The next file.", memory_mb=512, timeout_seconds=5)
    assert [b.text for b in blocks] == ["The next file."]


class Exploit:
    """Unpickling it runs os.mkdir(path): any code would do."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[object, ...]:
        return (os.mkdir, (self.path,))


def test_the_sandbox_does_not_use_pickle() -> None:
    serializers = {"pickle", "marshal", "shelve", "dill", "cloudpickle", "multiprocessing"}
    imports = re.findall(r"^\s*(?:import|from)\s+([\w.]+)", inspect.getsource(module), re.M)
    assert not {name.split(".")[0] for name in imports} & serializers, imports
    modules = {getattr(value, "__name__", "") for value in vars(module).values()}
    assert not modules & serializers


async def test_a_pickled_answer_is_refused_and_never_run(
    sandbox: ParserSandbox, tmp_path: Path
) -> None:
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(Exploit(control)))  # noqa: S301 (proves the payload is live)
    assert control.is_dir()
    marker = tmp_path / "ran"
    hostile = pickle.dumps(("ok", Exploit(marker)))

    with pytest.raises(ParseError, match="malformed"):
        decode_answer(hostile, memory_mb=512, timeout_seconds=5)
    assert not marker.exists()

    # The same bytes, answered by a child in place of a parse: a failed document.
    with pytest.raises(ParseError, match="malformed"):
        await sandbox._probe("raw", hostile)
    assert not marker.exists()
    blocks = await sandbox.parse("text", b"Next file.", memory_mb=512, timeout_seconds=5)
    assert [b.text for b in blocks] == ["Next file."]


MALFORMED = [
    b"\x80\x04\x95 not json",
    b"\xff\xfe{}",
    b"",
    b'["ok", []]',
    b'{"status": "ok"}',
    b'{"status": "ok", "blocks": {"0": ["paragraph", "x", 0]}}',
    b'{"status": "ok", "blocks": [["script", "x", 0]]}',
    b'{"status": "ok", "blocks": [[["paragraph"], "x", 0]]}',
    b'{"status": "ok", "blocks": [["paragraph", 1, 0]]}',
    b'{"status": "ok", "blocks": [["heading", "x", true]]}',
    b'{"status": "ok", "blocks": [["heading", "x", -1]]}',
    b'{"status": "ok", "blocks": [["heading", "x", 1.5]]}',
    b'{"status": "ok", "blocks": [["paragraph", "x"]]}',
    b'{"status": "ok", "blocks": [["heading", "x", ' + b"9" * 5000 + b"]]}",
    b'{"status": "error"}',
    b'{"status": "error", "message": ""}',
    b'{"status": "error", "message": "' + b"x" * 1001 + b'"}',
    b'{"status": "error", "message": ["x"]}',
    b'{"status": "exec", "message": "x"}',
    b"[" * 100_000 + b"]" * 100_000,
]


@pytest.mark.parametrize("payload", MALFORMED, ids=range(len(MALFORMED)))
def test_a_malformed_answer_is_a_parse_failure(payload: bytes) -> None:
    with pytest.raises(ParseError, match="malformed"):
        decode_answer(payload, memory_mb=512, timeout_seconds=5)


def test_answers_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "MAX_TEXT_CHARS", 10)
    with pytest.raises(ParseError, match="more than 10 characters"):
        decode_answer(
            b'{"status": "ok", "blocks": [["paragraph", "01234567890", 0]]}',
            memory_mb=512,
            timeout_seconds=5,
        )
    monkeypatch.setattr(module, "MAX_ANSWER_BYTES", 100)
    with pytest.raises(ParseError, match="more than 0 MB"):
        decode_answer(b" " * 101, memory_mb=512, timeout_seconds=5)


def test_blocks_and_failures_cross_the_wire_intact() -> None:
    blocks = [
        Block("heading", "Garantie — 保証", level=2),
        Block("paragraph", 'Quotes " and \\ and \n lines'),
        Block("code", "lone \ud800 surrogate from a PDF"),
        Block("table", "Plan | Price", level=0),
    ]
    assert decode_answer(encode_blocks(blocks), memory_mb=512, timeout_seconds=5) == blocks
    answers = {
        b'{"status": "timeout"}': "longer than 5 s",
        b'{"status": "memory"}': "more than 512 MB of memory",
        b'{"status": "error", "message": "the PDF is encrypted"}': "the PDF is encrypted",
    }
    for payload, message in answers.items():
        with pytest.raises(ParseError, match=message):
            decode_answer(payload, memory_mb=512, timeout_seconds=5)
