"""GraphiQL for browsers at GET /graphql, from files vendored in static/graphiql/ (see
its VERSIONS): nothing comes from a CDN, so the IDE works offline and on air-gapped
installs. On in development, off in production unless GRAPHIQL=true."""

from __future__ import annotations

import gzip
import hashlib
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

FOLDER = Path(__file__).resolve().parent / "static" / "graphiql"
STYLES = ("graphiql.min.css", "askbase-graphiql.css")
# In load order: React and graphql-ws are globals the ones after them use.
SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphql-ws.min.js",
    "graphiql.min.js",
    "askbase-graphiql.js",
)
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
ASSETS_PATH = "/graphiql/assets"

PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>askbase GraphiQL</title>
    <link rel="icon" href="data:,">
{styles}
  </head>
  <body>
    <div id="graphiql" data-style-nonce="{nonce}">Loading GraphiQL...</div>
{scripts}
  </body>
</html>
"""


def content_security_policy(nonce: str) -> str:
    """Only this server: scripts and styles from its files, requests (WebSockets too) to
    itself. The nonce admits the one <style> element GraphiQL's dialogs add; its fonts
    and icons are data: URLs inside graphiql.min.css."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            f"style-src 'self' 'nonce-{nonce}'",
            "font-src data:",
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


@dataclass(eq=False)
class Asset:
    """One vendored file, read once; gzipped on its first request that accepts gzip."""

    body: bytes
    media_type: str
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        self.digest = hashlib.sha256(self.body).hexdigest()[:20]

    @cached_property
    def gzipped(self) -> bytes:
        return gzip.compress(self.body, 6, mtime=0)

    def response(self, request: Request) -> Response:
        """The file for good (its URL names its digest), gzipped when the client takes it,
        or 304 for a copy the client already has."""
        etag = f'"{self.digest}"'
        headers = {
            "ETag": etag,
            "Cache-Control": "public, max-age=31536000, immutable",
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Resource-Policy": "same-origin",
        }
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        body = self.body
        if "gzip" in request.headers.get("accept-encoding", ""):
            body = self.gzipped
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=self.media_type, headers=headers)


class GraphiQL:
    """The IDE page and the files it loads. The page names each file with its digest in
    the query string, so the files may be cached for good."""

    def __init__(self, assets: dict[str, Asset]) -> None:
        self.assets = assets

    @classmethod
    def read(cls, folder: Path = FOLDER) -> GraphiQL:
        return cls(
            {
                name: Asset((folder / name).read_bytes(), MEDIA_TYPES[Path(name).suffix])
                for name in (*STYLES, *SCRIPTS)
            }
        )

    def url(self, name: str) -> str:
        # Relative to the page at .../graphql, so that a path prefix of a proxy is kept.
        return f"{ASSETS_PATH.lstrip('/')}/{name}?v={self.assets[name].digest}"

    def page(self) -> HTMLResponse:
        nonce = secrets.token_urlsafe(18)
        html = PAGE.format(
            nonce=nonce,
            styles="\n".join(
                f'    <link rel="stylesheet" href="{self.url(name)}">' for name in STYLES
            ),
            scripts="\n".join(f'    <script src="{self.url(name)}"></script>' for name in SCRIPTS),
        )
        return HTMLResponse(
            html,
            headers={
                "Content-Security-Policy": content_security_policy(nonce),
                "Cache-Control": "no-store",
                "Vary": "Accept",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    async def asset(self, request: Request) -> Response:
        found = self.assets.get(request.path_params["name"])
        if found is None:
            return PlainTextResponse("Not Found", status_code=404)
        return found.response(request)

    def routes(self) -> list[Route]:
        return [Route(ASSETS_PATH + "/{name}", self.asset, methods=["GET"])]
