"""Short-lived signed download links for original files, and the route that serves them."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from askbase.app.runtime.state import AppState
from askbase.database import documents


def _signature(key: bytes, document_id: uuid.UUID, expires: int) -> str:
    message = f"download:{document_id}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def download_path(key: bytes, document_id: uuid.UUID, ttl_seconds: int) -> str:
    expires = int(time.time()) + ttl_seconds
    return (
        f"/files/{document_id}?expires={expires}&signature={_signature(key, document_id, expires)}"
    )


async def serve_file(request: Request) -> Response:
    state: AppState = request.scope["state"]["askbase"]
    try:
        document_id = uuid.UUID(request.path_params["document_id"])
        expires = int(request.query_params.get("expires", ""))
    except ValueError:
        return JSONResponse({"error": "malformed link"}, status_code=404)
    expected = _signature(state.keys.download_secret, document_id, expires)
    signature = request.query_params.get("signature", "")
    if not hmac.compare_digest(expected, signature) or expires < time.time():
        return JSONResponse({"error": "the link is invalid or has expired"}, status_code=403)
    async with state.db.service() as conn:
        row = await documents.with_file(conn, document_id)
    if row is None or row["data"] is None:  # Storage files are linked to Supabase directly
        return JSONResponse({"error": "not found"}, status_code=404)
    return Response(
        bytes(row["data"]),
        media_type=row["content_type"],
        headers={
            "content-disposition": f"attachment; filename*=UTF-8''{quote(row['filename'])}",
            "x-content-type-options": "nosniff",
            "content-security-policy": "sandbox",
            "cache-control": "private, no-store",
        },
    )
