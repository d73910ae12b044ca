"""OpenTelemetry, on when OTEL_EXPORTER_OTLP_ENDPOINT is set: spans of GraphQL operations
reach an OTLP/HTTP collector (a real receiver on 127.0.0.1 that decodes the protobuf),
with operation and field names but never what clients sent."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.chat.test_chat_stream import connected, events, new_chat, start
from tests.conftest import ADD_MESSAGE, ORIGIN, Api, owner_token, running_api
from tests.knowledge.test_documents import upload, wait_until_done


@dataclass
class Collected:
    bodies: list[bytes] = field(default_factory=list)  # every export, as it came
    services: list[str] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)

    def named(self, name: str) -> list[Span]:
        return [span for span in self.spans if span.name == name]

    async def wait_for(self, name: str) -> None:
        for _ in range(200):
            if any(name in span.name for span in self.spans):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"no span {name!r} in {[s.name for s in self.spans]}")


@asynccontextmanager
async def otlp_collector(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Collected]:
    """An OTLP/HTTP receiver; the app started inside exports its spans to it."""
    from bench.chat import serving

    collected = Collected()

    async def traces(request: Request) -> Response:
        body = await request.body()
        collected.bodies.append(body)
        export = ExportTraceServiceRequest()
        export.ParseFromString(body)
        for resource in export.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}
            for scope in resource.scope_spans:
                collected.services.extend(service["service.name"] for _ in scope.spans)
                collected.spans.extend(scope.spans)
        return Response(b"", media_type="application/x-protobuf")

    collector = Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])
    async with serving(collector) as port:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
        yield collected


async def test_operations_are_traced_to_an_otlp_collector(
    pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with otlp_collector(monkeypatch) as collected, running_api(pg_dsn, tmp_path) as api:
        await api.data("query TracedHealth { health { ok } }")
        await collected.wait_for("TracedHealth")
    assert "askbase" in collected.services
    assert any("TracedHealth" in span.name for span in collected.spans)


def text_of(value: AnyValue) -> str:
    """An attribute value as text, whatever its type (arrays and maps included)."""
    return str(value)


def attributes(span: Span) -> dict[str, str]:
    return {a.key: a.value.string_value for a in span.attributes}


def leaks(collected: Collected, secret: str) -> list[str]:
    """Every place of the decoded export where `secret` occurs."""
    found = []
    for span in collected.spans:
        where = f"span {span.name!r}"
        if secret in span.name:
            found.append(f"{where}: its name")
        found.extend(
            f"{where}: attribute {a.key}={text_of(a.value)[:80]!r}"
            for a in span.attributes
            if secret in a.key or secret in text_of(a.value)
        )
        for event in span.events:
            if secret in event.name:
                found.append(f"{where}: event {event.name!r}")
            found.extend(
                f"{where}: event {event.name!r} attribute {a.key}={text_of(a.value)[:80]!r}"
                for a in event.attributes
                if secret in a.key or secret in text_of(a.value)
            )
        if secret in span.status.message:
            found.append(f"{where}: status message {span.status.message[:80]!r}")
    return found


# Lower case: origins are lower-cased before the error message that quotes them.
SECRET = "zq7-confidential-4d1b"

CREATE_SITE = f"""
mutation CreateSite($domain: String!, $prompt: String) {{
  createWebsite(input: {{domain: $domain, name: "Shop {SECRET} inline",
                        systemPrompt: $prompt, allowedOrigins: ["{ORIGIN}"]}}) {{ id }}
}}"""
UPDATE_SITE = """
mutation UpdateSite($id: ID!, $input: UpdateWebsiteInput!) {
  updateWebsite(id: $id, input: $input) { id }
}"""
ADD_TEXT = """
mutation AddText($w: ID!, $n: String!, $t: String!) {
  addDocumentText(websiteId: $w, filename: $n, text: $t) { id }
}"""
SEARCH = """
query Search($w: ID!, $q: String!) {
  search(websiteId: $w, query: $q) { documentId }
}"""
CREATE_CHAT = (
    "mutation CreateChat($w: ID!, $t: String) { createChat(websiteId: $w, title: $t) { id } }"
)


FAILURES: dict[str, tuple[str, dict[str, Any]]] = {
    # request id: (document, variables), each failing before execution, with the secret
    "trace-coerce": (
        "query Coerce($w: ID!, $q: String!, $n: Int) "
        "{ search(websiteId: $w, query: $q, limit: $n) { score } }",
        {"w": str(uuid.uuid4()), "q": "x", "n": SECRET},
    ),
    "trace-parse": (f'query Broken {{ search(query: "{SECRET}" }}', {}),
    "trace-validate": (
        f'query Invalid {{ search(websiteId: "x", query: "{SECRET}", nope: 1) {{ score }} }}',
        {},
    ),
}


async def send_client_data(api: Api, secret: str) -> dict[str, str]:
    """Operations whose arguments, variables and query text carry `secret`, and failures
    (some with error messages that quote it); returns the code that each failure before
    execution reached the client with, by request id."""
    codes = {}
    token = owner_token()
    request = {"x-request-id": "trace-req-1"}
    site = (
        await api.data(
            CREATE_SITE,
            {"domain": f"{uuid.uuid4().hex[:8]}.example", "prompt": f"Always say {secret}."},
            token=token,
            headers=request,
        )
    )["createWebsite"]["id"]
    await api.data(
        UPDATE_SITE,
        {
            "id": site,
            "input": {
                "systemPrompt": f"You are {secret}.",
                "welcomeMessage": f"Hello {secret}",
                "suggestedQuestions": [f"What is {secret}?"],
                "theme": {"accent": secret},
            },
        },
        token=token,
    )
    refused = await api.error(
        UPDATE_SITE,
        {"id": site, "input": {"allowedOrigins": [f"not an origin {secret}"]}},
        token=token,
    )
    assert refused["extensions"]["code"] == "BAD_USER_INPUT"
    assert secret in refused["message"]  # the exception's message quotes the client's value
    for request_id, (document, variables) in FAILURES.items():
        error = await api.error(document, variables, headers={"x-request-id": request_id})
        codes[request_id] = error["extensions"]["code"]
        assert request_id != "trace-coerce" or secret in error["message"]
    unknown = await api.http.post(
        "/graphql",
        json={"query": "query Known { health { ok } }", "operationName": f"Op {secret}"},
        headers={"x-request-id": "trace-unknown-operation"},
    )
    assert unknown.status_code == 400 and secret in unknown.text
    codes["trace-unknown-operation"] = unknown.json()["errors"][0]["extensions"]["code"]
    document = (
        await api.data(
            ADD_TEXT,
            {"w": site, "n": f"{secret}.md", "t": f"# Notes\n\nThe code word is {secret}."},
            token=token,
        )
    )["addDocumentText"]["id"]
    assert (await wait_until_done(api, token, document))["status"] == "READY"
    uploaded = await upload(api, token, site, f"{secret}-file.txt", f"Upload {secret}".encode())
    assert "errors" not in uploaded, uploaded
    await api.data(SEARCH, {"w": site, "q": f"code word {secret}"}, token=token)
    chat = (await api.data(CREATE_CHAT, {"w": site, "t": f"About {secret}"}, token=token))[
        "createChat"
    ]["id"]
    await api.data(ADD_MESSAGE, {"c": chat, "m": f"My card is {secret}"}, token=token)
    stream_chat = await new_chat(api, token, site)
    async with connected(api, "graphql-transport-ws", token) as ws:
        await start(ws, "graphql-transport-ws", stream_chat, f"What is the code word {secret}?")
        assert (await events(ws))[-1]["__typename"] == "MessageDone"
    return codes


async def test_spans_name_operations_and_fields_but_carry_no_client_data(
    pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with otlp_collector(monkeypatch) as collected, running_api(pg_dsn, tmp_path) as api:
        codes = await send_client_data(api, SECRET)
        await api.data("query TracedLast { health { ok } }")
        await collected.wait_for("TracedLast")

    # Nothing the clients sent: not in names, attributes, events or statuses...
    found = leaks(collected, SECRET)
    assert not found, "the secret was exported:\n" + "\n".join(found)
    # ...nor anywhere in the bytes that left the process.
    assert collected.bodies and not any(SECRET.encode() in body for body in collected.bodies)
    # Imported here, so that the checks above run (and fail) against any tracing module.
    from askbase.app.observability.tracing import ALLOWED_ATTRIBUTES, ALLOWED_EVENT_ATTRIBUTES

    for span in collected.spans:
        assert {a.key for a in span.attributes} <= ALLOWED_ATTRIBUTES, span
        for event in span.events:
            assert {a.key for a in event.attributes} <= ALLOWED_EVENT_ATTRIBUTES, span

    # What operators need is there: operation name and type, request id, field names.
    (created,) = collected.named("GraphQL Mutation: CreateSite")
    assert attributes(created)["askbase.request_id"] == "trace-req-1"
    assert attributes(created)["graphql.operation.name"] == "CreateSite"
    assert attributes(created)["graphql.operation.type"] == "mutation"
    assert created.status.code != Status.STATUS_CODE_ERROR
    (resolved,) = [
        s
        for s in collected.named("GraphQL Resolving: createWebsite")
        if s.parent_span_id == created.span_id
    ]
    assert attributes(resolved)["graphql.field.name"] == "createWebsite"
    assert attributes(resolved)["graphql.parentType"] == "Mutation"
    assert {"GraphQL Query: Search", "GraphQL Mutation: AddText"} <= {
        s.name for s in collected.spans
    }
    assert collected.named("GraphQL Resolving: search")
    assert collected.named("GraphQL Resolving: addDocumentText")
    assert collected.named("GraphQL Resolving: uploadDocument")
    assert collected.named("GraphQL Subscription")  # chatStream, an anonymous operation

    # A failed operation: error status and the safe code, without the message.
    failed = [
        s
        for s in collected.named("GraphQL Mutation: UpdateSite")
        if s.status.code == Status.STATUS_CODE_ERROR
    ]
    assert len(failed) == 1
    assert attributes(failed[0])["askbase.error.code"] == "BAD_USER_INPUT"
    (failed_field,) = [
        s
        for s in collected.named("GraphQL Resolving: updateWebsite")
        if s.parent_span_id == failed[0].span_id
    ]
    assert failed_field.status.code == Status.STATUS_CODE_ERROR
    assert attributes(failed_field)["askbase.error.code"] == "BAD_USER_INPUT"
    assert attributes(failed_field)["error.type"] == "BadUserInput"
    assert not failed_field.status.message

    # Failures before execution: the code the client got, on the operation's span.
    for request_id, code in codes.items():
        (operation,) = [
            s
            for s in collected.spans
            if attributes(s).get("askbase.request_id") == request_id and not s.parent_span_id
        ]
        assert operation.status.code == Status.STATUS_CODE_ERROR, request_id
        assert attributes(operation)["askbase.error.code"] == code, request_id
    assert codes == {
        "trace-coerce": "BAD_USER_INPUT",
        "trace-parse": "GRAPHQL_PARSE_FAILED",
        "trace-validate": "GRAPHQL_VALIDATION_FAILED",
        "trace-unknown-operation": "GRAPHQL_VALIDATION_FAILED",
    }


def test_the_exporter_drops_attributes_events_and_descriptions_off_the_list() -> None:
    """Whatever instrumentation sets, only allow-listed attributes leave the process."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import StatusCode

    from askbase.app.observability.tracing import allow_listed

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(allow_listed(memory)))
    tracer = provider.get_tracer("elsewhere")
    with (
        pytest.raises(ValueError, match=SECRET),
        tracer.start_as_current_span(
            "work", attributes={"graphql.field.name": "search", "query": SECRET}
        ) as span,
    ):
        span.add_event("note", {"text": SECRET})
        span.set_attribute("graphql.param.query", SECRET)
        raise ValueError(f"no results for {SECRET}")
    provider.shutdown()
    (exported,) = memory.get_finished_spans()
    assert dict(exported.attributes or {}) == {"graphql.field.name": "search"}
    assert [(e.name, dict(e.attributes or {})) for e in exported.events] == [
        ("exception", {"exception.type": "ValueError"})
    ]
    assert exported.status.status_code is StatusCode.ERROR
    assert exported.status.description is None
