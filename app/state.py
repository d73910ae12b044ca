"""What the lifespan builds once and every request shares."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from askbase.app.auth import Keys, TokenVerifier
from askbase.app.events import Events
from askbase.app.ingest.worker import Ingestion
from askbase.app.metrics import Metrics
from askbase.app.providers.embeddings import Embedder
from askbase.app.providers.llm import ChatModel
from askbase.app.ratelimit import RateLimits
from askbase.app.settings import Settings
from askbase.app.shutdown import Drain
from askbase.app.storage import SupabaseStore
from askbase.database.pool import Database


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    db: Database
    keys: Keys
    verifier: TokenVerifier
    limits: RateLimits
    version: str
    embedder: Embedder
    events: Events
    ingestion: Ingestion
    store: SupabaseStore | None  # None: original files are kept in Postgres
    chat_model: ChatModel
    metrics: Metrics
    demo_website_id: uuid.UUID | None = None  # served at /demo
    drain: Drain = field(default_factory=Drain)
