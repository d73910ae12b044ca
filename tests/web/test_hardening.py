"""Hostile uploads: a body that claims a gigabyte, a DOCX zip bomb, a DOCX that needs more
memory than parsing may take, a PDF whose forms draw each other a billion times. Each
ends within the limits (a clean error, or for the PDF a bounded read), and the service
goes on serving meanwhile."""

from __future__ import annotations

import asyncio
import io
import time
import zipfile
from pathlib import Path
from typing import Any

import docx
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
)

from tests.conftest import Api, owner_token, running_api
from tests.knowledge.test_documents import DOCUMENT, upload, wait_until_done


def docx_with_part(name: str, megabytes: int, chunk: bytes) -> bytes:
    """A real DOCX with one more part of `megabytes` MB of `chunk`, written in pieces."""
    document = docx.Document()
    document.add_paragraph("Warranty terms.")
    base = io.BytesIO()
    document.save(base)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(base) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info.filename))
        with target.open(name, "w", force_zip64=True) as part:
            if name == "word/document.xml":
                part.write(
                    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                    b'<w:document xmlns:w="http://schemas.openxmlformats.org/'
                    b'wordprocessingml/2006/main"><w:body>'
                )
            block = chunk * ((1 << 20) // len(chunk))
            for _ in range(megabytes):
                part.write(block)
            if name == "word/document.xml":
                part.write(b"</w:body></w:document>")
    return out.getvalue()


def pdf_of_multiplying_forms(levels: int = 9, fanout: int = 10) -> bytes:
    """One page that draws form 9, which draws form 8 ten times, ... form 0 shows text:
    10^9 text operations for a parser that follows every form."""
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    previous = None
    for _ in range(levels + 1):
        form = DecodedStreamObject()
        form.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject([FloatObject(0)] * 2 + [FloatObject(200)] * 2),
            }
        )
        if previous is None:
            form[NameObject("/Resources")] = DictionaryObject(
                {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
            )
            form.set_data(b"BT /F1 12 Tf 10 10 Td (laugh) Tj ET")
        else:
            form[NameObject("/Resources")] = DictionaryObject(
                {NameObject("/XObject"): DictionaryObject({NameObject("/Fm"): previous})}
            )
            form.set_data(b"/Fm Do " * fanout)
        previous = writer._add_object(form)
    content = DecodedStreamObject()
    content.set_data(b"/Fm Do")
    page[NameObject("/Contents")] = writer._add_object(content)
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/Fm"): previous})}
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def health_latency(api: Api, seconds: float) -> float:
    """The slowest /health answer while `seconds` pass."""
    worst = 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        assert (await api.http.get("/health")).status_code == 200
        worst = max(worst, time.monotonic() - started)
        await asyncio.sleep(0.1)
    return worst


async def test_hostile_files_fail_cleanly_and_nothing_else_is_affected(
    fresh_dsn: str, tmp_path: Path
) -> None:
    owner = owner_token()
    async with running_api(
        fresh_dsn, tmp_path, PARSE_TIMEOUT_SECONDS=3, PARSE_MEMORY_MB=300
    ) as api:
        site = (
            await api.data(
                'mutation { createWebsite(input: {domain: "bombs.example"}) { id } }', token=owner
            )
        )["createWebsite"]["id"]

        async def ingest(name: str, data: bytes) -> tuple[dict[str, Any], float]:
            body = await upload(api, owner, site, name, data)
            document_id = body["data"]["uploadDocument"]["id"]
            started = time.monotonic()
            finished = await wait_until_done(api, owner, document_id, within=60)
            return finished, time.monotonic() - started

        bomb = docx_with_part("word/bomb.xml", 300, b"\0")
        assert len(bomb) < 2 << 20  # 300 MB of zeros in under 2 MB
        doc, _ = await ingest("bomb.docx", bomb)
        assert doc["status"] == "FAILED" and "zip bomb" in doc["error"], doc

        heavy = docx_with_part("word/document.xml", 150, b"<w:p><w:r><w:t>ha</w:t></w:r></w:p>")
        doc, _ = await ingest("heavy.docx", heavy)
        assert doc["status"] == "FAILED" and "more than 300 MB of memory" in doc["error"], doc

        laughs = pdf_of_multiplying_forms()
        body = await upload(api, owner, site, "laughs.pdf", laughs)
        pdf_id = body["data"]["uploadDocument"]["id"]
        worst = await health_latency(api, 2.0)  # while the PDF is being parsed
        assert worst < 0.5, f"the server stalled for {worst:.2f} s during parsing"
        doc = await wait_until_done(api, owner, pdf_id, within=60)
        # pypdf does not follow the forms a billion times (it stops early); had it tried,
        # the 3 s deadline would have failed the document: either way, bounded.
        assert doc["status"] == "READY" or "longer than 3 s" in doc["error"], doc

        # The next, ordinary document is read as usual.
        doc, _ = await ingest("fine.txt", b"Our warranty lasts two years.")
        assert doc["status"] == "READY"
        again = await api.data(DOCUMENT, {"d": doc["id"]}, token=owner)
        assert again["document"]["chunkCount"] == 1


async def test_a_body_claiming_a_gigabyte_is_refused_before_it_is_read(api: Api) -> None:
    host, port = api.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    started = time.monotonic()
    writer.write(
        b"POST /graphql/upload HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\n"
        b"Content-Length: 1073741824\r\n\r\n" + b"--b\r\n" + b"x" * 65536
    )
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert status.startswith(b"HTTP/1.1 413"), status
    assert time.monotonic() - started < 2
    assert (await api.http.get("/health")).status_code == 200


async def test_a_parser_past_its_deadline_is_stopped() -> None:
    """The deadline itself, on a parse that cannot finish in time (HTML nested a million
    levels deep is slow for any tree builder)."""
    from askbase.app.knowledge.ingest.parse import ParseError
    from askbase.app.knowledge.ingest.sandbox import ParserSandbox

    deep = b"<html><body>" + b"<div>" * 1_000_000 + b"text" + b"</div>" * 1_000_000
    sandbox = ParserSandbox()
    try:
        fine = await sandbox.parse("html", b"<p>Hello.</p>", memory_mb=1024, timeout_seconds=10)
        assert [b.text for b in fine] == ["Hello."]
        started = time.monotonic()
        try:
            await sandbox.parse("html", deep, memory_mb=1024, timeout_seconds=0.05)
        except ParseError as error:
            assert "longer than 0.05 s" in str(error)
        else:
            raise AssertionError("a 0.05 s deadline let a million-level document through")
        assert time.monotonic() - started < 5
        again = await sandbox.parse("html", b"<p>Again.</p>", memory_mb=1024, timeout_seconds=10)
        assert [b.text for b in again] == ["Again."]  # the helper goes on after a kill
    finally:
        await sandbox.aclose()
