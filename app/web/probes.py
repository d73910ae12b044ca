"""What operators and load balancers poll: /health, /health/db and /metrics."""

from __future__ import annotations

import hmac
import ipaddress
import time

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from askbase.app.auth.clients import request_client
from askbase.app.auth.context import app_state
from askbase.database import jobs


async def health(request: Request) -> JSONResponse:
    state = app_state(request)
    if state.drain.draining:  # load balancers: send new visitors elsewhere
        return JSONResponse({"ok": False, "draining": True}, status_code=503)
    return JSONResponse({"ok": True, "version": state.version})


async def health_db(request: Request) -> JSONResponse:
    ok = await app_state(request).db.ping(wait_seconds=2.0)
    return JSONResponse({"ok": ok, "database": ok}, status_code=200 if ok else 503)


JOB_COUNTS_SECONDS = 15.0  # jobs are counted at most this often, however often scraped


def _is_loopback(client: str) -> bool:
    try:
        return ipaddress.ip_network(client, strict=False).network_address.is_loopback
    except ValueError:
        return False


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text. With METRICS_TOKEN, for its bearer only; without it, only for
    clients on this host (a scraper elsewhere needs the token)."""
    state = app_state(request)
    settings = state.settings
    expected = settings.metrics_token
    if expected is not None:
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {expected.get_secret_value()}".encode()):
            return PlainTextResponse("metrics need the METRICS_TOKEN bearer token", 401)
    else:
        if not _is_loopback(request_client(request, settings)):
            return PlainTextResponse("set METRICS_TOKEN to scrape metrics from elsewhere", 403)
    metrics = state.metrics
    now = time.monotonic()
    if now - metrics.jobs_counted_at >= JOB_COUNTS_SECONDS:  # one count per period
        metrics.jobs_counted_at = now
        try:
            async with state.db.service() as conn:
                counts = await jobs.counts_by_status(conn)
        except Exception:
            counts = None
        if counts is not None:
            for status in ("queued", "running", "done", "failed"):
                metrics.jobs.labels(status).set(counts.get(status, 0))
    pool = state.db.pool
    metrics.pool_size.labels("open").set(pool.get_size())
    metrics.pool_size.labels("idle").set(pool.get_idle_size())
    metrics.transactions.set(state.db.transactions)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
