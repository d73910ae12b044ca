"""What the lifespan builds once and every request shares."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from app.auth import Keys, TokenVerifier
from app.events import Events
from app.ingest.worker import Ingestion
from app.metrics import Metrics
from app.providers.embeddings import Embedder
from app.providers.llm import ChatModel
from app.ratelimit import RateLimits
from app.settings import Settings
from app.shutdown import Drain
from app.storage import SupabaseStore
from database.pool import Database


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
