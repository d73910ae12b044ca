"""Documents: upload of every format, ingestion to READY, hybrid search, management."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
import websockets

from tests import files
from tests.conftest import ORIGIN, Api, owner_token, visitor_session

UPLOAD = """
mutation($w: ID!, $f: Upload!) {
  uploadDocument(websiteId: $w, file: $f) { id status filename contentType sizeBytes }
}"""
ADD_TEXT = """
mutation($w: ID!, $n: String!, $t: String!) {
  addDocumentText(websiteId: $w, filename: $n, text: $t) { id status filename contentType }
}"""
DOCUMENT = "query($d: ID!) { document(id: $d) { id status error chunkCount filename downloadUrl } }"
SEARCH = """
query($w: ID!, $q: String!, $n: Int) {
  search(websiteId: $w, query: $q, limit: $n) { documentId chunkId title snippet score }
}"""


async def upload(api: Api, token: str, website_id: str, name: str, data: bytes) -> dict[str, Any]:
    """A GraphQL multipart request (the spec's operations + map + file parts)."""
    response = await api.http.post(
        "/graphql/upload",
        data={
            "operations": json.dumps({"query": UPLOAD, "variables": {"w": website_id, "f": None}}),
            "map": json.dumps({"0": ["variables.f"]}),
        },
        files={"0": (name, data, "application/octet-stream")},
        headers={"authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    return body


async def wait_until_done(
    api: Api, token: str, document_id: str, within: float = 60
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        doc: dict[str, Any] = (await api.data(DOCUMENT, {"d": document_id}, token=token))[
            "document"
        ]
        if doc["status"] in ("READY", "FAILED"):
            return doc
        assert asyncio.get_running_loop().time() < deadline, doc
        await asyncio.sleep(0.1)


async def test_every_format_is_ingested_and_searchable(api: Api, tenant: Any) -> None:
    made = {
        "pricing.pdf": files.pdf(
            [
                "Pricing overview.",
                "The Pro plan costs 49 euros per month and includes priority support.",
            ]
        ),
        "handbook.docx": files.docx(
            "Employee handbook",
            {"Holidays": ["Every employee receives 27 paid vacation days per year."]},
        ),
        "garden.html": files.html(
            "Garden care", {"Watering": "Water tomato plants deeply twice a week in summer."}
        ),
        "install.md": files.markdown(
            "Installation", {"Requirements": "The server needs PostgreSQL 16 and 2 GB of memory."}
        ),
        "notes.txt": b"Parking is free for visitors on weekends.\n\nThe office opens at 8 am.",
    }
    expected_types = {
        "pricing.pdf": "application/pdf",
        "handbook.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "garden.html": "text/html",
        "install.md": "text/markdown",
        "notes.txt": "text/plain",
    }
    ids = {}
    for name, data in made.items():
        body = await upload(api, tenant.owner, tenant.website_id, name, data)
        assert "errors" not in body, body
        doc = body["data"]["uploadDocument"]
        assert doc["status"] == "PENDING" and doc["sizeBytes"] == len(data)
        assert doc["contentType"] == expected_types[name]
        ids[name] = doc["id"]
    for name, document_id in ids.items():
        doc = await wait_until_done(api, tenant.owner, document_id)
        assert doc["status"] == "READY", (name, doc)
        assert doc["chunkCount"] >= 1

    questions = {
        "How much is the Pro plan?": ("pricing.pdf", "49 euros"),
        "how many vacation days do employees get": ("handbook.docx", "27 paid vacation days"),
        "how often should I water tomatoes": ("garden.html", "twice a week"),
        "what are the server requirements": ("install.md", "PostgreSQL 16"),
        "is parking free?": ("notes.txt", "Parking is free"),
    }
    for question, (name, phrase) in questions.items():
        hits = (
            await api.data(
                SEARCH, {"w": tenant.website_id, "q": question, "n": 3}, token=tenant.owner
            )
        )["search"]
        assert hits[0]["documentId"] == ids[name], (question, hits)
        assert phrase in hits[0]["snippet"]
        assert hits[0]["title"].startswith(name)
        assert hits[0]["score"] > 0
    # Stripped markup never reaches the index.
    hits = (
        await api.data(
            SEARCH, {"w": tenant.website_id, "q": "secret do not index"}, token=tenant.owner
        )
    )["search"]
    assert all("do not index" not in h["snippet"] for h in hits)


async def test_document_status_streams_until_ready(api: Api, tenant: Any) -> None:
    doc = (
        await api.data(
            ADD_TEXT,
            {
                "w": tenant.website_id,
                "n": "faq.md",
                "t": "# FAQ\n\nOur support line is open on weekdays.",
            },
            token=tenant.owner,
        )
    )["addDocumentText"]
    seen = []
    async with websockets.connect(api.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {tenant.owner}"}}
            )
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        query = "subscription($d: ID!) { documentStatus(documentId: $d) { status chunkCount } }"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": {"d": doc["id"]}},
                }
            )
        )
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if message["type"] == "complete":
                break
            seen.append(message["payload"]["data"]["documentStatus"])
    assert seen[-1]["status"] == "READY" and seen[-1]["chunkCount"] == 1
    assert [s["status"] for s in seen] == sorted(
        {s["status"] for s in seen}, key=["PENDING", "PROCESSING", "READY"].index
    )


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("secret.pdf", files.pdf(["Top secret."], password="hunter2"), "encrypted"),
        ("broken.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 50, "damaged"),
        ("empty.html", b"<!DOCTYPE html><html><body><script>x()</script></body></html>", "no text"),
        ("broken.docx", b"PK\x03\x04" + b"not really a zip" * 10, "damaged"),
    ],
)
async def test_unreadable_files_fail_with_a_clear_error(
    api: Api, tenant: Any, name: str, data: bytes, message: str
) -> None:
    body = await upload(api, tenant.owner, tenant.website_id, name, data)
    if "errors" in body:  # refused at once (a damaged ZIP is known before storing)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert message in body["errors"][0]["message"]
        return
    doc = await wait_until_done(api, tenant.owner, body["data"]["uploadDocument"]["id"])
    assert doc["status"] == "FAILED" and message in doc["error"], doc
    assert doc["chunkCount"] == 0
    # The worker goes on with other documents.
    fine = await api.data(
        ADD_TEXT, {"w": tenant.website_id, "n": "ok.txt", "t": "Still working."}, token=tenant.owner
    )
    assert (await wait_until_done(api, tenant.owner, fine["addDocumentText"]["id"]))[
        "status"
    ] == "READY"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("image.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
        ("archive.zip", b"PK\x03\x04\x14\x00\x00\x00\x00\x00" + b"\x00" * 100),
        ("empty.txt", b""),
        ("binary.txt", bytes(range(256)) * 10),
    ],
)
async def test_unsupported_uploads_are_refused_and_nothing_is_stored(
    api: Api, tenant: Any, admin: asyncpg.Connection, name: str, data: bytes
) -> None:
    body = await upload(api, tenant.owner, tenant.website_id, name, data)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    count = await admin.fetchval(
        "select count(*) from documents where website_id = $1::uuid", tenant.website_id
    )
    assert count == 0


async def test_oversized_uploads_are_payload_too_large(
    start_api: Any, tenant: Any, admin: asyncpg.Connection
) -> None:
    async with start_api(MAX_UPLOAD_BYTES=4096) as api:
        body = await upload(api, tenant.owner, tenant.website_id, "big.txt", b"word " * 2000)
        assert body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        error = await api.error(
            ADD_TEXT,
            {"w": tenant.website_id, "n": "big.txt", "t": "word " * 2000},
            token=tenant.owner,
        )
        assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    count = await admin.fetchval(
        "select count(*) from documents where website_id = $1::uuid", tenant.website_id
    )
    assert count == 0


async def test_the_upload_route_serves_only_uploads(api: Api, tenant: Any) -> None:
    response = await api.http.post(
        "/graphql/upload",
        json={"query": "{ websites { id } }"},
        headers={"authorization": f"Bearer {tenant.owner}"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    # ... and the main route takes no multipart requests at all.
    response = await api.http.post(
        "/graphql",
        data={
            "operations": json.dumps(
                {"query": UPLOAD, "variables": {"w": tenant.website_id, "f": None}}
            ),
            "map": "{}",
        },
        files={"0": ("a.txt", b"hello", "text/plain")},
        headers={"authorization": f"Bearer {tenant.owner}"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_search_is_scoped_to_one_website(
    api: Api, tenant_factory: Any, admin: asyncpg.Connection
) -> None:
    site_a = await tenant_factory()
    site_b = await tenant_factory()
    for site, text in (
        (site_a, "The blue widget costs ten dollars."),
        (site_b, "The red widget costs twelve dollars."),
    ):
        doc = (
            await api.data(
                ADD_TEXT, {"w": site.website_id, "n": "widgets.txt", "t": text}, token=site.owner
            )
        )["addDocumentText"]
        assert (await wait_until_done(api, site.owner, doc["id"]))["status"] == "READY"
    for site, colour in ((site_a, "blue"), (site_b, "red")):
        hits = (
            await api.data(
                SEARCH, {"w": site.website_id, "q": "widget price", "n": 10}, token=site.owner
            )
        )["search"]
        assert len(hits) == 1 and colour in hits[0]["snippet"]
    # Visitors search their own website; another website's id is refused.
    visitor = (await visitor_session(api, site_a.website_id))["token"]
    hits = (
        await api.data(
            SEARCH, {"w": site_a.website_id, "q": "widget"}, token=visitor, origin=ORIGIN
        )
    )["search"]
    assert [("blue" in h["snippet"]) for h in hits] == [True]
    error = await api.error(
        SEARCH, {"w": site_b.website_id, "q": "widget"}, token=visitor, origin=ORIGIN
    )
    assert error["extensions"]["code"] == "FORBIDDEN"
    # Owners cannot search websites they do not own.
    error = await api.error(SEARCH, {"w": site_b.website_id, "q": "widget"}, token=site_a.owner)
    assert error["extensions"]["code"] == "NOT_FOUND"
    for query, variables in (("", {}), ("x" * 1001, {}), ("ok", {"n": 0}), ("ok", {"n": 21})):
        error = await api.error(
            SEARCH, {"w": site_a.website_id, "q": query, **variables}, token=site_a.owner
        )
        assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_delete_removes_file_chunks_and_job(
    api: Api, tenant_factory: Any, admin: asyncpg.Connection
) -> None:
    site = await tenant_factory()
    other = await tenant_factory()
    doc = (
        await api.data(
            ADD_TEXT,
            {"w": site.website_id, "n": "gone.txt", "t": "Temporary content."},
            token=site.owner,
        )
    )["addDocumentText"]
    await wait_until_done(api, site.owner, doc["id"])
    delete = "mutation($d: ID!) { deleteDocument(id: $d) }"
    assert (await api.error(delete, {"d": doc["id"]}, token=other.owner))["extensions"][
        "code"
    ] == "NOT_FOUND"
    visitor = (await visitor_session(api, site.website_id))["token"]
    assert (await api.error(delete, {"d": doc["id"]}, token=visitor, origin=ORIGIN))["extensions"][
        "code"
    ] == "FORBIDDEN"
    assert await api.data(delete, {"d": doc["id"]}, token=site.owner) == {"deleteDocument": True}
    for table, column in (
        ("documents", "id"),
        ("document_files", "document_id"),
        ("document_chunks", "document_id"),
        ("jobs", "document_id"),
    ):
        count = await admin.fetchval(
            f"select count(*) from {table} where {column} = $1::uuid", doc["id"]
        )
        assert count == 0, table


async def test_download_links_are_signed_and_expire(api: Api, tenant: Any) -> None:
    data = files.docx("Doc", {"Part": ["Body text."]})
    body = await upload(api, tenant.owner, tenant.website_id, "report.docx", data)
    doc = body["data"]["uploadDocument"]
    url = (await api.data(DOCUMENT, {"d": doc["id"]}, token=tenant.owner))["document"][
        "downloadUrl"
    ]
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
        assert response.status_code == 200 and response.content == data
        assert "attachment" in response.headers["content-disposition"]
        tampered = url.replace("signature=", "signature=0")
        assert (await client.get(tampered)).status_code == 403
        expired = url.split("?")[0] + "?expires=1&signature=" + url.rsplit("=", 1)[1]
        assert (await client.get(expired)).status_code == 403
        assert (await client.get(url.replace(doc["id"], str(uuid.uuid4())))).status_code == 403
        # Links have a key of their own: one signed with the visitor-token key is refused.
        from askbase.app.web.downloads import download_path

        forged = download_path(api.state.keys.visitor_secret, uuid.UUID(doc["id"]), 60)
        assert (await client.get(api.base_url + forged)).status_code == 403
    visitor = (await visitor_session(api, tenant.website_id))["token"]
    error = await api.error(DOCUMENT, {"d": doc["id"]}, token=visitor, origin=ORIGIN)
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_documents_list_and_filter_by_status(api: Api, tenant: Any) -> None:
    for i in range(3):
        doc = (
            await api.data(
                ADD_TEXT,
                {"w": tenant.website_id, "n": f"d{i}.txt", "t": f"Text {i}."},
                token=tenant.owner,
            )
        )["addDocumentText"]
        await wait_until_done(api, tenant.owner, doc["id"])
    query = "query($w: ID!, $s: DocumentStatus) { documents(websiteId: $w, first: 2, status: $s) { nodes { filename status } pageInfo { hasNextPage } } }"
    page = (await api.data(query, {"w": tenant.website_id, "s": "READY"}, token=tenant.owner))[
        "documents"
    ]
    assert [n["filename"] for n in page["nodes"]] == ["d2.txt", "d1.txt"] and page["pageInfo"][
        "hasNextPage"
    ]
    failed = (await api.data(query, {"w": tenant.website_id, "s": "FAILED"}, token=tenant.owner))[
        "documents"
    ]
    assert failed["nodes"] == []
    assert owner_token()  # another owner's token sees nothing of it
    error = await api.error(query, {"w": tenant.website_id}, token=owner_token())
    assert error["extensions"]["code"] == "NOT_FOUND"
