"""What a file is, decided by its content (the extension only breaks ties)."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Literal

Format = Literal["pdf", "docx", "html", "markdown", "text"]

MIME: dict[Format, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "markdown": "text/markdown",
    "text": "text/plain",
}
_HTML = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])",
    re.I | re.S,
)
_HTML_TAGS = re.compile(rb"<(p|div|h[1-6]|ul|ol|li|table|article|section|span|a)[\s>]", re.I)
_MARKDOWN = re.compile(
    r"(^#{1,6}\s+\S)|(^```)|(^\s*[-*+]\s+\S.*\n\s*[-*+]\s+\S)|(\[[^\]]+\]\([^)]+\))|(^\|.+\|\s*$)",
    re.M,
)


class UnsupportedFile(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Detected:
    format: Format
    mime: str


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; refuses binary data."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UnsupportedFile(
                "the file is neither a supported document nor UTF-8 text"
            ) from None
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    if "\x00" in sample or (sample and controls / len(sample) > 0.05):
        raise UnsupportedFile("the file looks binary, not text")
    return text


def detect(data: bytes, filename: str) -> Detected:
    name = filename.lower()
    if data.startswith(b"%PDF-"):
        return Detected("pdf", MIME["pdf"])
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return Detected("docx", MIME["docx"])
        except zipfile.BadZipFile:
            raise UnsupportedFile("the file is a damaged ZIP archive") from None
        raise UnsupportedFile("ZIP archives other than DOCX are not supported")
    head = data[:4096]
    text = decode_text(data)  # raises for binary formats we do not read
    if _HTML.match(head) or (
        name.endswith((".html", ".htm", ".xhtml")) and _HTML_TAGS.search(data[:65536])
    ):
        return Detected("html", MIME["html"])
    if name.endswith((".md", ".markdown", ".mdx")) or (
        not name.endswith(".txt") and len(_MARKDOWN.findall(text[:20000])) >= 2
    ):
        return Detected("markdown", MIME["markdown"])
    return Detected("text", MIME["text"])
