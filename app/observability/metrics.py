"""Prometheus metrics: one registry per app, exposed at GET /metrics.

Labels are bounded: routes are the app's own paths, operation names are kept only when
they look like names and while fewer than MAX_OPERATION_NAMES have been seen (clients
choose them), and outcomes are the contract's error codes.
"""

from __future__ import annotations

import re

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)

ROUTES = ("/graphql", "/graphql/upload", "/health", "/health/db", "/metrics", "/demo")
MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self) -> None:
        self.jobs_counted_at = float("-inf")  # when /metrics last counted the jobs
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "askbase_http_requests",
            "HTTP requests and WebSocket connections, by route and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "askbase_http_request_duration_seconds",
            "HTTP request time (WebSocket connections: their lifetime)",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.operations = Counter(
            "askbase_graphql_operations",
            "GraphQL operations by name, type and outcome (ok or the error code)",
            ["operation", "type", "outcome"],
            registry=r,
        )
        self.subscriptions = Gauge(
            "askbase_active_subscriptions",
            "Subscriptions streaming now, by field",
            ["field"],
            registry=r,
        )
        self.tokens = Counter(
            "askbase_tokens_streamed",
            "Answer tokens streamed to clients (as the model reports them, else estimated)",
            ["model"],
            registry=r,
        )
        self.answers = Counter(
            "askbase_answers",
            "Answers by final status (complete, incomplete, failed)",
            ["status"],
            registry=r,
        )
        self.first_token_seconds = Histogram(
            "askbase_time_to_first_token_seconds",
            "From chatStream's start to its first TokenDelta",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.llm_errors = Counter(
            "askbase_llm_errors",
            "Chat model failures by code (UNAVAILABLE, RATE_LIMITED...)",
            ["code"],
            registry=r,
        )
        self.jobs = Gauge(
            "askbase_ingestion_jobs",
            "Ingestion jobs by state, counted in the database at most every 15 s",
            ["state"],
            registry=r,
        )
        self.pool_size = Gauge(
            "askbase_db_pool_connections", "Connections in the pool", ["state"], registry=r
        )
        self.transactions = Gauge(
            "askbase_db_transactions",
            "Request-scoped transactions opened since start",
            registry=r,
        )
        self.admission = Counter(
            "askbase_answer_admissions",
            "Answers admitted, or refused by admission control and why",
            ["outcome"],
            registry=r,
        )
        self.admission_wait = Histogram(
            "askbase_answer_queue_wait_seconds",
            "How long admitted answers waited for a slot",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.admission_queue = Gauge(
            "askbase_answer_queue_depth", "Answers waiting for a slot now", registry=r
        )
        self.admission_active = Gauge(
            "askbase_answers_admitted_now", "Answers holding a slot now", registry=r
        )
        self._names: set[str] = set()

    def operation_label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if not _NAME.match(name):
            return "other"
        if name not in self._names:
            if len(self._names) >= MAX_OPERATION_NAMES:
                return "other"
            self._names.add(name)
        return name


def route_label(path: str) -> str:
    if path in ROUTES:
        return path
    if path.startswith("/files/"):
        return "/files/{id}"
    if path.startswith("/widget/"):
        return "/widget/{file}"
    return "other"
