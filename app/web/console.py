"""The owners' console at /console/: the files esbuild built into console/dist/ (committed,
so serving needs no node), read once at start-up. The page has a strict CSP (this server
only, no inline script or style); its assets carry a content hash in their names and are
cached for good."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from askbase.app.web.graphiql import Asset

FOLDER = Path(__file__).resolve().parents[2] / "console" / "dist"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # The page is small and names its assets by hash: revalidated at every load.
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@dataclass(frozen=True, slots=True)
class Console:
    page: bytes | None  # None where console/dist/ is missing
    assets: dict[str, Asset]

    @classmethod
    def read(cls, folder: Path = FOLDER) -> Console:
        index = folder / "index.html"
        if not index.is_file():
            return cls(None, {})
        assets = {
            path.name: Asset(path.read_bytes(), MEDIA_TYPES[path.suffix])
            for path in sorted((folder / "assets").iterdir())
            if path.suffix in MEDIA_TYPES
        }
        return cls(index.read_bytes(), assets)

    async def index(self, request: Request) -> Response:
        if self.page is None:
            return PlainTextResponse(
                "The console is not built here: run `make console`.", status_code=404
            )
        return Response(self.page, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    async def asset(self, request: Request) -> Response:
        found = self.assets.get(request.path_params["name"])
        if found is None:
            return PlainTextResponse("Not Found", status_code=404)
        return found.response(request)

    def routes(self) -> list[Route]:
        async def slash(request: Request) -> Response:
            # Relative, so that a proxy's path prefix stays.
            return RedirectResponse("console/", status_code=308)

        return [
            Route("/console", slash, methods=["GET"]),
            Route("/console/", self.index, methods=["GET"]),
            Route("/console/assets/{name}", self.asset, methods=["GET"]),
        ]
