"""GraphQL types of website sources (contract section "Website sources")."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import asyncpg
import strawberry
from strawberry.types import Info

from askbase.app.auth.context import Context
from askbase.app.core.pagination import Page
from askbase.app.knowledge.sources.owners import NewSource
from askbase.resolvers import sources as source_resolvers
from askbase.schema.inputs import after_cursor, page_size
from askbase.schema.types import PageInfo


@strawberry.enum(description="How a source finds its pages.")
class SourceKind(Enum):
    CRAWL = strawberry.enum_value(
        "crawl", description="Follow links from the URL, staying under it."
    )
    SITEMAP = strawberry.enum_value("sitemap", description="The URLs of the sitemap at the URL.")
    PAGE = strawberry.enum_value("page", description="The one page at the URL.")


@strawberry.enum(description="Where a source is in syncing.")
class SyncState(Enum):
    IDLE = strawberry.enum_value("idle", description="Not syncing; the last sync finished.")
    QUEUED = strawberry.enum_value("queued", description="A sync waits for a worker.")
    SYNCING = strawberry.enum_value("syncing", description="A sync is running.")
    FAILED = strawberry.enum_value("failed", description="The last sync failed; `error` says why.")


@strawberry.enum(description="What the last sync did with a page.")
class PageState(Enum):
    PENDING = strawberry.enum_value("pending", description="Found, not fetched yet.")
    STORED = strawberry.enum_value(
        "stored", description="Fetched and stored as a (new or changed) document."
    )
    UNCHANGED = strawberry.enum_value(
        "unchanged", description="Fetched; the same as its stored document."
    )
    SKIPPED = strawberry.enum_value(
        "skipped",
        description="Not stored on purpose (robots.txt, noindex, too large...); see `error`.",
    )
    FAILED = strawberry.enum_value(
        "failed", description="Could not be fetched or read; see `error`."
    )
    REMOVED = strawberry.enum_value(
        "removed", description="Gone from the site or no longer wanted; its document deleted."
    )


@strawberry.type(description="Page counts of a sync.")
class SourceStats:
    discovered: int = strawberry.field(description="Pages found.")
    stored: int = strawberry.field(description="Pages stored as new or changed documents.")
    unchanged: int = strawberry.field(description="Pages the same as before.")
    skipped: int = strawberry.field(description="Pages left out on purpose.")
    failed: int = strawberry.field(description="Pages that could not be fetched or read.")
    removed: int = strawberry.field(description="Pages removed with their documents.")


@strawberry.type(description="A page of a website source, as its last sync left it.")
class SourcePage:
    url: str = strawberry.field(description="The page's URL.")
    title: str | None = strawberry.field(description="Its title, once it has been read.")
    state: PageState = strawberry.field(description="What the last sync did with it.")
    http_status: int | None = strawberry.field(
        description="The HTTP status of the last fetch; null when not fetched."
    )
    error: str | None = strawberry.field(
        description="Why it failed or was skipped, readable; null otherwise."
    )
    fetched_at: datetime | None = strawberry.field(
        description="When it was last fetched; null when never."
    )
    document_id: strawberry.ID | None = strawberry.field(
        description="The document it is stored as; null when none."
    )

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


@strawberry.type(description="A page of a source's pages, in the order they were found.")
class SourcePageConnection:
    nodes: list[SourcePage] = strawberry.field(description="The pages of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")

    @classmethod
    def of(cls, page: Page[asyncpg.Record]) -> SourcePageConnection:
        return cls(nodes=[SourcePage.from_row(r) for r in page.items], page_info=PageInfo.of(page))


@strawberry.type(
    description=(
        "A whole site fed by URL and kept in sync: every page a sync stores is a Document "
        "(its sourceUrl set)."
    )
)
class WebsiteSource:
    id: strawberry.ID = strawberry.field(description="The source's id.")
    website_id: strawberry.ID = strawberry.field(description="The website it feeds.")
    url: str = strawberry.field(description="Where it starts (normalised).")
    kind: SourceKind = strawberry.field(description="How it finds its pages.")
    include_patterns: list[str] = strawberry.field(
        description="URL globs a page must match; empty: everything under `url`."
    )
    exclude_patterns: list[str] = strawberry.field(description="URL globs of pages to leave out.")
    max_pages: int = strawberry.field(description="The most pages a sync stores.")
    resync_every_hours: int | None = strawberry.field(
        description="Hours between scheduled syncs; null: only when asked (syncWebsiteSource)."
    )
    state: SyncState = strawberry.field(description="Where it is in syncing.")
    stats: SourceStats = strawberry.field(
        description="Counts of the running sync, else of the last one."
    )
    last_synced_at: datetime | None = strawberry.field(
        description="When the last sync finished; null before the first."
    )
    next_sync_at: datetime | None = strawberry.field(
        description="When the next scheduled sync is due; null when none is scheduled."
    )
    error: str | None = strawberry.field(
        description="Why the last sync failed, readable; null otherwise."
    )

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

    @strawberry.field(description="The source's pages, in the order they were found.")
    async def pages(
        self,
        info: Info[Context, None],
        first: Annotated[int | None, page_size(50)] = 50,
        after: Annotated[str | None, after_cursor()] = None,
        state: Annotated[
            PageState | None,
            strawberry.argument(description="Only pages in this state; null: all."),
        ] = None,
    ) -> SourcePageConnection:
        page = await source_resolvers.pages(
            info.context, self.id, first, after, str(state.value) if state else None
        )
        return SourcePageConnection.of(page)


@strawberry.input(description="A new website source. Null fields take their defaults.")
class WebsiteSourceInput:
    url: str = strawberry.field(
        description="An http(s) URL the server may fetch, at most 2048 characters."
    )
    kind: SourceKind | None = strawberry.field(
        default=SourceKind.CRAWL, description="How to find pages; null: CRAWL."
    )
    include_patterns: list[str] | None = strawberry.field(
        default=None,
        description="URL globs (at most 50) a page must match; null: everything under url.",
    )
    exclude_patterns: list[str] | None = strawberry.field(
        default=None, description="URL globs (at most 50) of pages to leave out; null: none."
    )
    max_pages: int | None = strawberry.field(
        default=500,
        description="The most pages a sync stores, 1..CRAWL_MAX_PAGES (10,000); null: 500.",
    )
    resync_every_hours: int | None = strawberry.field(
        default=None,
        description="Hours between scheduled syncs, 1..8760; null: only when asked.",
    )

    def new(self) -> NewSource:
        return NewSource(
            url=self.url,
            kind=str((self.kind or SourceKind.CRAWL).value),
            include_patterns=tuple(self.include_patterns or ()),
            exclude_patterns=tuple(self.exclude_patterns or ()),
            max_pages=500 if self.max_pages is None else self.max_pages,
            resync_every_hours=self.resync_every_hours,
        )
