"""Configuration from the environment and `.env`, validated once at start-up."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from askbase.app.core.manifests import ManifestError, read_manifests

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: list[str]) -> list[Network]:
    """CIDRs (or single addresses); ValueError names the one that is not."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an address or CIDR: {value.strip()!r}") from None
    return networks


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("askbase", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)

    database_url: SecretStr | None = None
    data_dir: Path = Field(default_factory=_default_data_dir, alias="ASKBASE_DATA_DIR")
    # widget/ of the source tree; the container image copies it elsewhere and says where.
    widget_dir: Path = Path(__file__).resolve().parents[2] / "widget"
    # transaction: DATABASE_URL is a transaction-mode pooler (PgBouncer, Supabase's port
    # 6543): no statements kept prepared, no LISTEN (workers and subscriptions poll).
    database_pool_mode: Literal["session", "transaction"] = "session"
    db_pool_min: int = Field(1, ge=0)
    db_pool_max: int = Field(10, ge=1)

    supabase_jwt_secret: SecretStr | None = None
    supabase_jwks_url: str | None = None
    # How long the JWKS is trusted before it is fetched again: a key removed from the
    # set (revoked) is refused at most this long after.
    jwks_cache_seconds: float = Field(300, ge=1, le=86400)
    # The `iss` owner tokens must carry; default: SUPABASE_URL + /auth/v1 when that is
    # set, askbase's own with only the embedded mode's local secret, else not checked.
    jwt_issuer: str | None = None
    jwt_audience: str = "authenticated"
    session_secret: SecretStr | None = Field(None, alias="ASKBASE_SESSION_SECRET")
    session_ttl_seconds: int = Field(3600, ge=60, le=30 * 24 * 3600)
    # How often a long answer checks its caller again (token expiry, allowed origin).
    auth_recheck_seconds: float = Field(15, gt=0)

    log_json: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    max_message_chars: int = Field(8000, ge=1)
    max_request_bytes: int = Field(1 << 20, ge=1024)
    max_upload_bytes: int = Field(20_000_000, ge=1024)
    introspection: bool | None = None  # default: on in development, off in production
    graphiql: bool | None = None  # default: on in development, off in production
    max_query_depth: int = Field(10, ge=2)
    max_aliases: int = Field(15, ge=1)
    max_tokens: int = Field(2000, ge=50)
    # Any JSON a client sends (bodies, GET parameters, multipart fields, WebSocket frames):
    # arrays and objects nested deeper than this are refused before GraphQL sees them.
    max_json_depth: int = Field(32, ge=4, le=500)
    # Checked before validation, whose cost grows with the square of the fields that share
    # a response name: field selections per document with fragments expanded, and how
    # many of them may repeat a name already selected at the same level.
    max_selections: int = Field(400, ge=10)
    max_duplicate_fields: int = Field(20, ge=0)
    # Persisted operations. APQ (Apollo's automatic persisted queries): documents that
    # clients registered by their SHA-256, kept in an LRU of this many per process (0:
    # off, hash-only requests then get PERSISTED_QUERY_NOT_SUPPORTED). TRUSTED_DOCUMENTS:
    # comma-separated paths of manifests (hash -> document, as graphql-codegen's client
    # preset emits them); with the widget's own operations they are the documents that a
    # website with `trustedDocumentsOnly` accepts from its visitors.
    apq_cache_size: int = Field(1000, ge=0, le=1_000_000)
    trusted_documents: str = ""
    # WebSockets, both protocols: seconds a socket has to send connection_init, operations
    # running at once on one socket, and sockets open at once from one client address.
    ws_init_timeout_seconds: float = Field(10, gt=0, le=600)
    ws_max_operations: int = Field(20, ge=1)
    ws_max_connections_per_ip: int = Field(50, ge=1)
    # permessage-deflate keeps a zlib state of its own per WebSocket (most of the memory
    # of an open chat) and gains little on token-sized frames; off unless asked for.
    ws_compression: bool = False
    # On SIGTERM, how long running answers may go on before they are cut (and stored).
    shutdown_grace_seconds: float = Field(20, ge=0)

    embedding_provider: Literal["local", "openai"] = "local"
    embedding_model: str = "text-embedding-3-small"  # with the openai provider
    embedding_dimensions: int | None = Field(None, ge=1, le=16000)
    query_cache_size: int = Field(2048, ge=0)  # recent questions' vectors kept; 0: none
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None

    ingest_workers: int = Field(1, ge=0, le=32)  # ingestion workers of `askbase serve`
    # They run in a child process at a lower CPU priority (nice), so that parsing and
    # embedding take only the CPU that answers leave; false: in the server's process.
    ingest_process: bool = True
    ingest_nice: int = Field(10, ge=0, le=19)
    ingest_max_attempts: int = Field(3, ge=1, le=20)
    ingest_lease_seconds: float = Field(300, ge=1)
    ingest_retry_seconds: float = Field(10, ge=0)
    chunk_tokens: int = Field(200, ge=32, le=8000)
    chunk_overlap: int = Field(32, ge=0, le=1000)
    # Each file is parsed in a child process with this much memory, until this deadline.
    parse_memory_mb: int = Field(1024, ge=128)
    parse_timeout_seconds: float = Field(60, gt=0)

    # Website sources. Hosts (or addresses) that may be fetched although private or
    # loopback, comma separated: self-hosted intranets, and the tests on 127.0.0.1.
    crawl_allowed_private_hosts: str = ""
    crawl_max_page_bytes: int = Field(5_000_000, ge=1024)  # a larger page is SKIPPED
    crawl_timeout_seconds: float = Field(20, gt=0)  # per request, whole body included
    crawl_max_redirects: int = Field(5, ge=0, le=20)
    crawl_max_depth: int = Field(6, ge=0, le=50)  # links followed from the start URL
    crawl_max_delay_seconds: float = Field(10, ge=0)  # cap on robots.txt Crawl-delay
    crawl_max_retry_seconds: float = Field(30, ge=0)  # cap on Retry-After
    crawl_max_pages: int = Field(10_000, ge=1)  # the most `maxPages` may be
    crawl_max_sources: int = Field(20, ge=1)  # per website

    # Hand-off webhooks (app/chat/webhooks.py), through the same guard as website sources:
    # attempts per request, the wait before the first retry (doubled after each), and the
    # deadline of one attempt.
    handoff_webhook_attempts: int = Field(3, ge=1, le=10)
    handoff_webhook_retry_seconds: float = Field(2.0, ge=0, le=600)
    handoff_webhook_timeout_seconds: float = Field(10, gt=0, le=60)

    search_candidates: int = Field(40, ge=5, le=1000)
    search_rrf_k: int = Field(10, ge=1)  # tuned with bench/retrieval.py
    search_vector_weight: float = Field(1.0, ge=0)
    search_text_weight: float = Field(0.5, ge=0)  # tuned with bench/retrieval.py
    search_max_per_document: int = Field(1, ge=1, le=20)
    max_search_chars: int = Field(1000, ge=1)

    supabase_url: str | None = None  # with the key: original files in Supabase Storage
    supabase_service_role_key: SecretStr | None = None
    supabase_storage_bucket: str = Field("askbase-documents", min_length=3, max_length=63)

    llm_provider: Literal["openai", "local", "extractive"] | None = None  # see llm_kind
    llm_model_path: Path | None = None  # a GGUF file for the local provider
    llm_model: str = "gpt-4o-mini"
    # The models an owner may pick for their website (comma-separated), besides
    # LLM_MODEL: each answer is billed to the operator's key.
    llm_allowed_models: str = ""
    llm_base_url: str | None = None  # default: OPENAI_BASE_URL
    llm_api_key: SecretStr | None = None  # default: OPENAI_API_KEY
    llm_timeout_seconds: float = Field(60, gt=0)
    llm_first_token_seconds: float = Field(30, gt=0)
    llm_max_retries: int = Field(2, ge=0, le=10)
    llm_max_tokens: int = Field(700, ge=16, le=32000)
    # Admission control (app/chat/admission.py): answers in their CPU-heavy phase (up
    # to the first token) at once, how many may wait and how long, and each website's
    # and each visitor's share. Measured with bench/overload.py on 2 cores.
    answer_slots: int = Field(4, ge=1, le=1000)
    answer_queue: int = Field(64, ge=0, le=100_000)
    answer_queue_seconds: float = Field(0.7, gt=0, le=60)
    answer_slots_per_website: int = Field(3, ge=1)
    answer_slots_per_visitor: int = Field(2, ge=1)
    answer_sources: int = Field(5, ge=1, le=20)
    answer_min_similarity: float = Field(0.3, ge=-1, le=1)
    # Knowledge gaps: a question joins a gap whose centroid is at least this similar.
    gap_similarity: float = Field(0.6, ge=0, le=1)
    history_tokens: int = Field(1500, ge=0)

    demo_content: bool | None = None  # default: with the embedded database in development

    public_url: str | None = None  # how clients reach this API (download links)
    download_url_ttl_seconds: int = Field(300, ge=10, le=7 * 24 * 3600)

    rate_limit_ip_per_minute: float = Field(60, gt=0)
    rate_limit_website_per_minute: float = Field(600, gt=0)
    # memory: per process; postgres: one set of buckets for every instance
    rate_limit_backend: Literal["memory", "postgres"] = "memory"
    trusted_proxy_header: str | None = None
    metrics_token: SecretStr | None = None  # when set, GET /metrics needs it as a bearer token
    # The proxies whose TRUSTED_PROXY_HEADER is believed: comma-separated CIDRs.
    trusted_proxy_cidrs: str = ""

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("DB_POOL_MIN must not exceed DB_POOL_MAX")
        if self.environment == "production" and self.database_url is None:
            raise ValueError(
                "ENVIRONMENT=production needs DATABASE_URL: the embedded database is for "
                "development only"
            )
        if self.database_url is not None and not (self.supabase_jwt_secret or self.session_secret):
            raise ValueError(
                "with DATABASE_URL set, also set SUPABASE_JWT_SECRET or ASKBASE_SESSION_SECRET "
                "so that every instance signs visitor tokens with the same key"
            )
        if (self.supabase_url is None) != (self.supabase_service_role_key is None):
            raise ValueError("set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY together")
        if self.llm_provider == "local" and self.llm_model_path is None:
            raise ValueError("LLM_PROVIDER=local needs LLM_MODEL_PATH (a GGUF file)")
        if self.llm_model_path is not None and not self.llm_model_path.is_file():
            raise ValueError(f"LLM_MODEL_PATH: no such file: {self.llm_model_path}")
        if self.trusted_proxy_header and not self.trusted_proxy_cidrs.strip():
            raise ValueError(
                "TRUSTED_PROXY_HEADER needs TRUSTED_PROXY_CIDRS: the addresses of the proxies "
                "whose header is believed (e.g. 10.0.0.0/8)"
            )
        self.trusted_proxy_networks  # noqa: B018 - raises for a CIDR that is not one
        self.trusted_manifest  # noqa: B018 - raises for a manifest that cannot be used
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError("CHUNK_OVERLAP must be smaller than CHUNK_TOKENS")
        if self.embedding_provider == "openai" and not (
            self.openai_api_key or self.openai_base_url
        ):
            raise ValueError("EMBEDDING_PROVIDER=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL)")
        if self.database_url is not None:
            url = self.database_url.get_secret_value()
            if not url.startswith(("postgres://", "postgresql://")):
                raise ValueError("DATABASE_URL must start with postgresql:// or postgres://")
        return self

    @property
    def llm_kind(self) -> Literal["openai", "local", "extractive"]:
        """LLM_PROVIDER; else local with LLM_MODEL_PATH, openai with an OpenAI key or base
        URL, and extractive without any model."""
        if self.llm_provider is not None:
            return self.llm_provider
        if self.llm_model_path is not None:
            return "local"
        keys = (self.llm_api_key, self.llm_base_url, self.openai_api_key, self.openai_base_url)
        return "openai" if any(keys) else "extractive"

    @cached_property
    def allowed_models(self) -> frozenset[str]:
        listed = (m.strip() for m in self.llm_allowed_models.split(","))
        return frozenset({self.llm_model, *(m for m in listed if m)})

    @cached_property
    def trusted_proxy_networks(self) -> list[Network]:
        return parse_networks([c for c in self.trusted_proxy_cidrs.split(",") if c.strip()])

    @cached_property
    def trusted_manifest(self) -> dict[str, str]:
        """The documents of TRUSTED_DOCUMENTS by their SHA-256 (checked at start-up)."""
        paths = [Path(p.strip()) for p in self.trusted_documents.split(",") if p.strip()]
        try:
            return read_manifests(paths)
        except ManifestError as error:
            raise ValueError(f"TRUSTED_DOCUMENTS: {error}") from None

    @property
    def owner_issuer(self) -> str | None:
        if self.jwt_issuer is not None:
            return self.jwt_issuer
        if self.supabase_url is not None:
            return self.supabase_url.rstrip("/") + "/auth/v1"
        if self.embedded and self.supabase_jwt_secret is None and not self.supabase_jwks_url:
            return "askbase"  # tokens of `askbase token`
        return None

    @property
    def demo_enabled(self) -> bool:
        if self.demo_content is not None:
            return self.demo_content
        return self.embedded and self.development

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @property
    def introspection_enabled(self) -> bool:
        return self.development if self.introspection is None else self.introspection

    @property
    def graphiql_enabled(self) -> bool:
        return self.development if self.graphiql is None else self.graphiql


class ConfigError(Exception):
    """Invalid configuration, with one readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_settings(*, env_file: str | None = ".env", **overrides: Any) -> Settings:
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]).upper()
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {msg}" if where else msg)
        raise ConfigError(problems) from None
