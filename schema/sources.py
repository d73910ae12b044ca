"""GraphQL types of website sources (contract section "Website sources")."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import asyncpg
import strawberry
from strawberry.types import Info

from askbase.app.auth.context import Context
from askbase.app.core.pagination import Page
from askbase.app.knowledge.sources.owners import NewSource
from askbase.resolvers import sources as source_resolvers
from askbase.schema.types import PageInfo


@strawberry.enum
class SourceKind(Enum):
    CRAWL = "crawl"
    SITEMAP = "sitemap"
    PAGE = "page"


@strawberry.enum
class SyncState(Enum):
    IDLE = "idle"
    QUEUED = "queued"
    SYNCING = "syncing"
    FAILED = "failed"


@strawberry.enum
class PageState(Enum):
    PENDING = "pending"
    STORED = "stored"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"
    REMOVED = "removed"


@strawberry.type
class SourceStats:
    discovered: int
    stored: int
    unchanged: int
    skipped: int
    failed: int
    removed: int


@strawberry.type
class SourcePage:
    url: str
    title: str | None
    state: PageState
    http_status: int | None
    error: str | None
    fetched_at: datetime | None
    document_id: strawberry.ID | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> SourcePage:
        return cls(
            url=row["url"],
            title=row["title"],
            state=PageState(row["state"]),
            http_status=row["http_status"],
            error=row["error"],
            fetched_at=row["fetched_at"],
            document_id=strawberry.ID(str(row["document_id"])) if row["document_id"] else None,
        )


@strawberry.type
class SourcePageConnection:
    nodes: list[SourcePage]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[asyncpg.Record]) -> SourcePageConnection:
        return cls(nodes=[SourcePage.from_row(r) for r in page.items], page_info=PageInfo.of(page))


@strawberry.type
class WebsiteSource:
    id: strawberry.ID
    website_id: strawberry.ID
    url: str
    kind: SourceKind
    include_patterns: list[str]
    exclude_patterns: list[str]
    max_pages: int
    resync_every_hours: int | None
    state: SyncState
    stats: SourceStats
    last_synced_at: datetime | None
    next_sync_at: datetime | None
    error: str | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> WebsiteSource:
        return cls(
            id=strawberry.ID(str(row["id"])),
            website_id=strawberry.ID(str(row["website_id"])),
            url=row["url"],
            kind=SourceKind(row["kind"]),
            include_patterns=list(row["include_patterns"]),
            exclude_patterns=list(row["exclude_patterns"]),
            max_pages=row["max_pages"],
            resync_every_hours=row["resync_every_hours"],
            state=SyncState(row["state"]),
            stats=SourceStats(
                discovered=row["discovered"],
                stored=row["stored"],
                unchanged=row["unchanged"],
                skipped=row["skipped"],
                failed=row["failed"],
                removed=row["removed"],
            ),
            last_synced_at=row["last_synced_at"],
            next_sync_at=row["next_sync_at"],
            error=row["error"],
        )

    @strawberry.field
    async def pages(
        self,
        info: Info[Context, None],
        first: int | None = 50,
        after: str | None = None,
        state: PageState | None = None,
    ) -> SourcePageConnection:
        page = await source_resolvers.pages(
            info.context, self.id, first, after, state.value if state else None
        )
        return SourcePageConnection.of(page)


@strawberry.input
class WebsiteSourceInput:
    url: str
    kind: SourceKind | None = SourceKind.CRAWL
    include_patterns: list[str] | None = None
    exclude_patterns: list[str] | None = None
    max_pages: int | None = 500
    resync_every_hours: int | None = None

    def new(self) -> NewSource:
        return NewSource(
            url=self.url,
            kind=(self.kind or SourceKind.CRAWL).value,
            include_patterns=tuple(self.include_patterns or ()),
            exclude_patterns=tuple(self.exclude_patterns or ()),
            max_pages=500 if self.max_pages is None else self.max_pages,
            resync_every_hours=self.resync_every_hours,
        )
