"""OpenTelemetry, on when OTEL_EXPORTER_OTLP_ENDPOINT is set: spans of GraphQL operations
reach an OTLP/HTTP collector (a real receiver on 127.0.0.1 that decodes the protobuf)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import running_api


async def test_operations_are_traced_to_an_otlp_collector(
    pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.chat import serving

    spans: list[Any] = []

    async def traces(request: Request) -> Response:
        export = ExportTraceServiceRequest()
        export.ParseFromString(await request.body())
        for resource in export.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}
            for scope in resource.scope_spans:
                spans.extend((service["service.name"], span.name) for span in scope.spans)
        return Response(b"", media_type="application/x-protobuf")

    collector = Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])
    async with serving(collector) as port:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
        async with running_api(pg_dsn, tmp_path) as api:
            await api.data("query TracedHealth { health { ok } }")
            for _ in range(100):
                if any("TracedHealth" in name for _, name in spans):
                    break
                await asyncio.sleep(0.05)
    assert any(service == "askbase" and "TracedHealth" in name for service, name in spans), spans
