"""Dataloaders, created per request (per operation on a WebSocket): one query per batch."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
from strawberry.dataloader import DataLoader

from askbase.app.auth.context import Context, operation_cache
from askbase.app.auth.tokens import Owner
from askbase.app.core.pagination import Page, check_first, decode_cursor, make_page
from askbase.database import chats, messages, websites

# (parent id, first, after): a page of children per parent.
PageKey = tuple[uuid.UUID, int | None, str | None]
K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Loaders:
    websites: DataLoader[uuid.UUID, asyncpg.Record | None]
    chat_pages: DataLoader[PageKey, Page[asyncpg.Record]]
    message_pages: DataLoader[PageKey, Page[asyncpg.Record]]


def loaders(ctx: Context) -> Loaders:
    cache = operation_cache()
    found = cache.get("loaders")
    if found is None:
        found = cache["loaders"] = _build(ctx)
    assert isinstance(found, Loaders)
    return found


def _build(ctx: Context) -> Loaders:
    async def load_websites(ids: list[uuid.UUID]) -> Sequence[asyncpg.Record | None]:
        owner_view = isinstance(await ctx.caller(), Owner)
        async with ctx.db() as conn:
            rows = await websites.by_ids(conn, ids, owner_view=owner_view)
        by_id = {r["id"]: r for r in rows}
        return [by_id.get(i) for i in ids]

    PageQuery = Callable[..., Awaitable[list[asyncpg.Record]]]

    def paged(
        query: PageQuery, parent: str, default: int
    ) -> DataLoader[PageKey, Page[asyncpg.Record]]:
        async def load(keys: list[PageKey]) -> Sequence[Page[asyncpg.Record]]:
            groups: dict[tuple[int | None, str | None], list[uuid.UUID]] = defaultdict(list)
            for parent_id, first, after in keys:
                groups[(first, after)].append(parent_id)
            results: dict[PageKey, Page[asyncpg.Record]] = {}
            async with ctx.db() as conn:
                for (first, after), ids in groups.items():
                    limit = check_first(first, default)
                    rows = await query(conn, ids, limit=limit + 1, after=decode_cursor(after))
                    per_parent: dict[uuid.UUID, list[asyncpg.Record]] = defaultdict(list)
                    for row in rows:
                        per_parent[row[parent]].append(row)
                    for parent_id in ids:
                        results[(parent_id, first, after)] = make_page(per_parent[parent_id], limit)
            return [results[k] for k in keys]

        return DataLoader(load_fn=load)

    return Loaders(
        websites=DataLoader(load_fn=load_websites),
        chat_pages=paged(chats.pages, "website_id", 20),
        message_pages=paged(messages.pages, "chat_id", 50),
    )
