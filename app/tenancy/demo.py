"""Demo content for a fresh local install: a website that answers from askbase's own docs.

On `askbase serve` with the embedded database (or DEMO_CONTENT=true), a demo website is
created once, allowed on the local demo page's origin, and the project's README is queued
for ingestion, so the assistant answers questions right away. Restarts reuse it.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from askbase.app.knowledge.ingest.detect import detect
from askbase.app.knowledge.library import create
from askbase.database import documents, websites

if TYPE_CHECKING:
    from askbase.app.runtime.state import AppState

log = structlog.get_logger("askbase.demo")

DEMO_DOMAIN = "demo.askbase.local"
DEMO_OWNER = uuid.uuid5(uuid.NAMESPACE_URL, "askbase:demo-owner")
ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "WIDGET_INTEGRATION.md")
DEMO_SETTINGS = {
    "title": "askbase",
    "welcomeMessage": "Hi! Ask me anything about askbase.",
    "suggestedQuestions": [
        "How do I run askbase?",
        "Which file formats can I upload?",
        "How do I configure an OpenAI-compatible model?",
    ],
}


def local_origins(host: str, port: int) -> list[str]:
    hosts = {host, "127.0.0.1", "localhost"} - {"0.0.0.0", "::"}  # noqa: S104
    return sorted(f"http://{h}:{port}" for h in hosts)


async def ensure_demo(state: AppState, origins: list[str]) -> uuid.UUID:
    """The demo website's id; created, with its documents queued, on the first start."""
    async with state.db.service() as conn:
        website_id = await websites.id_by_domain(conn, DEMO_DOMAIN)
        if website_id is None:
            website_id = await websites.insert_for(
                conn, DEMO_OWNER, DEMO_DOMAIN, "askbase demo", origins, DEMO_SETTINGS
            )
        else:
            await websites.set_allowed_origins(conn, website_id, origins)
    for name in DOCS:
        path = ROOT / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        async with state.db.service() as conn:
            if await documents.by_sha256(conn, website_id, digest):
                continue  # unchanged since the last start
            await documents.delete_by_filename(conn, website_id, name)  # an older version
        mime = detect(data, name).mime
        await create(state, state.db.service, website_id, name, mime, data, digest)
        log.info("demo document queued", filename=name)
    return website_id
