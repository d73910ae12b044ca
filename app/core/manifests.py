"""Trusted-documents manifests: the GraphQL documents a deployment knows in advance.

A manifest is a JSON object from a document's SHA-256 (hex, optionally written
`sha256:<hex>`) to the document's text, as GraphQL Code Generator's client preset emits
it with `persistedDocuments: true` (`persisted-documents.json`). Each entry is checked
when the server starts: the key must be the SHA-256 of the text, exactly, so a request
that names a document by its hash runs the text the manifest's author wrote.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path

HASH = re.compile(r"[0-9a-f]{64}")


class ManifestError(ValueError):
    """A manifest that cannot be used; the message says which file and why."""


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def document_hash(value: str) -> str | None:
    """A document id as clients send it (`<hex>` or `sha256:<hex>`), as bare lowercase
    hex; None when it is not a SHA-256."""
    bare = value.removeprefix("sha256:").lower()
    return bare if HASH.fullmatch(bare) else None


def parse_manifest(text: str, where: str) -> dict[str, str]:
    """One manifest's entries by bare hash, or ManifestError."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ManifestError(f"{where}: not JSON ({error})") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{where}: must be a JSON object of hash -> document")
    documents: dict[str, str] = {}
    for key, document in data.items():
        bare = document_hash(key)
        if bare is None:
            raise ManifestError(f"{where}: {key[:80]!r} is not a SHA-256 hash")
        if not isinstance(document, str) or not document.strip():
            raise ManifestError(f"{where}: the document of {key[:16]}… is not a string")
        if sha256_hex(document) != bare:
            raise ManifestError(
                f"{where}: {key[:16]}… is not the SHA-256 of its document "
                "(hash the document text exactly as it is stored)"
            )
        documents[bare] = document
    return documents


def read_manifests(paths: Iterable[Path]) -> dict[str, str]:
    documents: dict[str, str] = {}
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ManifestError(f"{path}: cannot be read ({error})") from None
        documents.update(parse_manifest(text, str(path)))
    return documents
