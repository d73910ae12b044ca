"""Original files in Supabase Storage, through the real `supabase` client.

FAKE: no Supabase Storage server can run here, so a small Starlette app on 127.0.0.1
plays its HTTP API (the bucket, object upload/download/sign/remove routes that the
storage3 client calls), keeping objects in memory. Everything else is real: the app,
PostgreSQL, the worker and the supabase package's requests over HTTP.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests import files
from tests.conftest import CREATE_WEBSITE, Tenant, free_socket, owner_token, running_api
from tests.knowledge.test_documents import DOCUMENT, SEARCH, upload, wait_until_done

KEY = "service-role-key-for-tests"


class FakeStorage:
    def __init__(self) -> None:
        self.buckets: dict[str, dict[str, Any]] = {}
        self.objects: dict[tuple[str, str], bytes] = {}
        self.failing = False

    def app(self) -> Starlette:
        def authorized(request: Request) -> bool:
            return request.headers.get("authorization") == f"Bearer {KEY}"

        def error(status: int, message: str) -> JSONResponse:
            return JSONResponse(
                {"statusCode": str(status), "error": message, "message": message}, status
            )

        async def bucket(request: Request) -> Response:
            if not authorized(request):
                return error(403, "unauthorized")
            if request.method == "POST":
                body = await request.json()
                self.buckets[body["id"]] = body
                return JSONResponse({"name": body["id"]})
            found = self.buckets.get(request.path_params["id"])
            if found is None:
                return error(404, "Bucket not found")
            return JSONResponse(
                {
                    "id": found["id"],
                    "name": found["name"],
                    "owner": "",
                    "public": found.get("public", False),
                    "created_at": "2026-01-01T00:00:00Z",
                    "updated_at": "2026-01-01T00:00:00Z",
                    "file_size_limit": None,
                    "allowed_mime_types": None,
                }
            )

        async def obj(request: Request) -> Response:
            if not authorized(request):
                return error(403, "unauthorized")
            name, path = request.path_params["bucket"], request.path_params["path"]
            if self.failing:
                return error(503, "storage is down")
            if request.method == "POST":
                async with request.form() as form:
                    upload = form["file"]
                    assert not isinstance(upload, str)
                    self.objects[(name, path)] = await upload.read()
                return JSONResponse({"Key": f"{name}/{path}", "Id": str(uuid.uuid4())})
            data = self.objects.get((name, path))
            return error(404, "Object not found") if data is None else Response(data)

        async def remove(request: Request) -> Response:
            name = request.path_params["bucket"]
            for path in (await request.json())["prefixes"]:
                self.objects.pop((name, path), None)
            return JSONResponse([])

        async def sign(request: Request) -> Response:
            name, path = request.path_params["bucket"], request.path_params["path"]
            body = await request.json()
            assert int(body["expiresIn"]) > 0
            return JSONResponse({"signedURL": f"/object/sign/{name}/{path}?token=signed"})

        return Starlette(
            routes=[
                Route("/storage/v1/bucket", bucket, methods=["POST"]),
                Route("/storage/v1/bucket/{id}", bucket, methods=["GET"]),
                Route("/storage/v1/object/sign/{bucket}/{path:path}", sign, methods=["POST"]),
                Route("/storage/v1/object/{bucket}", remove, methods=["DELETE"]),
                Route("/storage/v1/object/{bucket}/{path:path}", obj, methods=["GET", "POST"]),
            ]
        )


@asynccontextmanager
async def fake_storage() -> AsyncIterator[tuple[FakeStorage, str]]:
    fake = FakeStorage()
    with free_socket() as sock:
        server = uvicorn.Server(uvicorn.Config(fake.app(), log_level="warning", lifespan="off"))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                raise RuntimeError("the fake Storage server did not start")
            await asyncio.sleep(0.01)
        host, port = sock.getsockname()
        try:
            yield fake, f"http://{host}:{port}"
        finally:
            server.should_exit = True
            await task


async def test_files_live_in_supabase_storage(fresh_dsn: str, tmp_path: Path) -> None:
    # A database of its own: every instance sharing a database must share the storage
    # settings, and the suite's main instance keeps files in Postgres.
    async with (
        fake_storage() as (fake, url),
        running_api(
            fresh_dsn, tmp_path, SUPABASE_URL=url, SUPABASE_SERVICE_ROLE_KEY=KEY
        ) as storage_api,
    ):
        assert "askbase-documents" in fake.buckets  # created at start-up, private
        assert fake.buckets["askbase-documents"]["public"] is False
        owner = uuid.uuid4()
        # With SUPABASE_URL set, owner tokens must come from that project's Auth.
        token = owner_token(owner, iss=url.rstrip("/") + "/auth/v1")
        created = await storage_api.data(
            CREATE_WEBSITE,
            {"input": {"domain": "files.example", "allowedOrigins": []}},
            token=token,
        )
        site = Tenant(token, owner, created["createWebsite"]["id"])
        admin = await asyncpg.connect(fresh_dsn)
        data = files.markdown("Returns", {"Window": "Returns are accepted for 30 days."})
        body = await upload(storage_api, site.owner, site.website_id, "returns.md", data)
        document = body["data"]["uploadDocument"]
        path = f"{site.website_id}/{document['id']}"
        assert fake.objects[("askbase-documents", path)] == data
        doc = await wait_until_done(storage_api, site.owner, document["id"])
        assert doc["status"] == "READY", doc  # the worker read the file from Storage
        assert not await admin.fetchval(
            "select count(*) from public.document_files where document_id = $1",
            uuid.UUID(document["id"]),
        )
        hits = (
            await storage_api.data(
                SEARCH, {"w": site.website_id, "q": "returns window"}, token=site.owner
            )
        )["search"]
        assert hits and hits[0]["documentId"] == document["id"]
        link = (await storage_api.data(DOCUMENT, {"d": document["id"]}, token=site.owner))[
            "document"
        ]["downloadUrl"]
        assert link.startswith(f"{url}/storage/v1/object/sign/askbase-documents/{path}?")
        assert "download=returns.md" in link

        # Storage down: the upload fails cleanly and nothing is recorded.
        fake.failing = True
        before = await admin.fetchval("select count(*) from public.documents")
        body = await upload(storage_api, site.owner, site.website_id, "x.md", data)
        assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        assert await admin.fetchval("select count(*) from public.documents") == before
        fake.failing = False

        deleted = await storage_api.data(
            "mutation($d: ID!) { deleteDocument(id: $d) }", {"d": document["id"]}, token=site.owner
        )
        assert deleted["deleteDocument"] is True
        assert ("askbase-documents", path) not in fake.objects
        await admin.close()
