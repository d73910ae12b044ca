"""The embeddable widget's script, served as it is in the repository, and the demo page."""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from askbase.app.runtime.state import AppState

WEBSITE_ID_PLACEHOLDER = "__ASKBASE_DEMO_WEBSITE_ID__"
OPERATIONS_PLACEHOLDER = b"__ASKBASE_OPERATIONS__"


@dataclass(frozen=True, slots=True)
class Script:
    """One file, read once at start-up, with its gzip form and a strong ETag."""

    body: bytes
    gzipped: bytes
    etag: str

    @classmethod
    def read(cls, path: Path, *, replacements: dict[bytes, bytes] | None = None) -> Script:
        body = path.read_bytes()
        for placeholder, value in (replacements or {}).items():
            body = body.replace(placeholder, value)
        digest = hashlib.sha256(body).hexdigest()[:32]
        return cls(body=body, gzipped=gzip.compress(body, 9, mtime=0), etag=f'"{digest}"')

    async def serve(self, request: Request) -> Response:
        headers = {
            "ETag": self.etag,
            # Pages embed the script by a fixed URL: browsers revalidate after five
            # minutes (a 304 while unchanged), so a new release reaches every site soon.
            "Cache-Control": "public, max-age=300, stale-while-revalidate=86400",
            "Vary": "Accept-Encoding",
            "Access-Control-Allow-Origin": "*",
            "Cross-Origin-Resource-Policy": "cross-origin",
            "X-Content-Type-Options": "nosniff",
        }
        if self.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        body = self.body
        if "gzip" in request.headers.get("accept-encoding", ""):
            body = self.gzipped
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


def widget_operations(widget_dir: Path) -> dict[str, str]:
    """The GraphQL documents the widget sends, by name (widget/operations.json)."""
    operations: dict[str, str] = json.loads((widget_dir / "operations.json").read_text())
    return operations


def widget_script(widget_dir: Path) -> Script:
    """chat-widget.js with its operations filled in."""
    operations = json.dumps(widget_operations(widget_dir), indent=2).replace("\n", "\n  ")
    return Script.read(
        widget_dir / "chat-widget.js",
        replacements={OPERATIONS_PLACEHOLDER: operations.encode()},
    )


async def demo_page(request: Request) -> Response:
    """widget/demo.html, configured for the demo website (404 where there is none)."""
    state: AppState = request.scope["state"]["askbase"]
    if state.demo_website_id is None:
        return PlainTextResponse(
            "No demo here: the demo website exists with the embedded database "
            "(or DEMO_CONTENT=true).",
            status_code=404,
        )
    page = (state.settings.widget_dir / "demo.html").read_text()
    website_id = json.dumps(str(state.demo_website_id))[1:-1]
    return HTMLResponse(
        page.replace(WEBSITE_ID_PLACEHOLDER, website_id),
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
