"""Optional OpenTelemetry traces: one span per GraphQL operation and its resolvers
(Strawberry's OpenTelemetryExtension), exported over OTLP/HTTP.

On when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; the
exporter reads the other standard OTEL_* variables itself. Needs the `otel` extra:
pip install -e '.[otel]'.
"""

from __future__ import annotations

import os
from typing import Any

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracing_requested() -> bool:
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


class Tracing:
    """The tracer provider of this process, set up once, flushed at shutdown."""

    def __init__(self, service_name: str, version: str) -> None:
        try:
            from opentelemetry import trace
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError as error:
            raise RuntimeError(
                "OTEL_EXPORTER_OTLP_ENDPOINT is set, but OpenTelemetry is not installed: "
                "pip install -e '.[otel]'"
            ) from error
        resource = Resource.create({"service.name": service_name, "service.version": version})
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(self.provider)

    def shutdown(self) -> None:
        self.provider.shutdown()  # exports what is still buffered


def schema_extension() -> Any:
    from strawberry.extensions.tracing import OpenTelemetryExtension

    return OpenTelemetryExtension
