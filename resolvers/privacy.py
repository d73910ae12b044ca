"""Privacy resolvers: a visitor's data deleted on request."""

from __future__ import annotations

from askbase.app.auth.context import Context
from askbase.app.insights import privacy
from askbase.database.privacy import Deleted
from askbase.resolvers.arguments import parse_id


async def delete_visitor_data(ctx: Context, website_id: str, visitor_id: str) -> Deleted:
    return await privacy.delete_visitor_data(
        ctx, parse_id(website_id, "websiteId"), parse_id(visitor_id, "visitorId")
    )
