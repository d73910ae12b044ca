"""What operators and load balancers poll: /health, /health/db and /metrics."""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

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


async def metrics_endpoint(request: Request) -> Response:
    state = app_state(request)
    expected = state.settings.metrics_token
    if expected is not None:
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {expected.get_secret_value()}".encode()):
            return PlainTextResponse("metrics need the METRICS_TOKEN bearer token", 401)
    metrics = state.metrics
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
