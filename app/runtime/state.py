"""What the lifespan builds once and every request shares."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from askbase.app.auth.ratelimit import RateLimits
from askbase.app.auth.tokens import Keys, TokenVerifier
from askbase.app.chat.admission import Admission
from askbase.app.chat.models import ChatModel
from askbase.app.chat.webhooks import Webhooks
from askbase.app.core.settings import Settings
from askbase.app.knowledge.embeddings import Embedder
from askbase.app.knowledge.events import Events
from askbase.app.knowledge.ingest.worker import Ingestion
from askbase.app.knowledge.storage import SupabaseStore
from askbase.app.observability.metrics import Metrics
from askbase.app.runtime.drain import Drain
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
    admission: Admission
    webhooks: Webhooks  # hand-off webhooks (app/chat/webhooks.py)
    demo_website_id: uuid.UUID | None = None  # served at /demo
    drain: Drain = field(default_factory=Drain)
