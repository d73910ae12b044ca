"""Logs with request ids (structlog), Prometheus metrics, OpenTelemetry traces."""
