"""Websites (tenants): created, changed and deleted by their owners."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from askbase.app.auth.context import Context
from askbase.app.core.errors import BadUserInput, NotFound
from askbase.app.core.validation import WebsiteCreate, WebsiteUpdate
from askbase.app.knowledge.storage import object_path
from askbase.database import documents, websites

_COLUMNS = ("name", "allowed_origins", "system_prompt", "model", "temperature")
# Public settings, by their keys in `settings` (a missing key is the default: the title is
# then the name, the rest empty).
_SETTINGS = {
    "title": "title",
    "welcome_message": "welcomeMessage",
    "suggested_questions": "suggestedQuestions",
    "theme": "theme",
    "trusted_documents_only": "trustedDocumentsOnly",  # read by auth/context.py too
    "time_zone": "timeZone",  # activity buckets (app/insights/activity.py)
    "retention_days": "retentionDays",  # the retention job (app/insights/privacy.py)
}


async def create(ctx: Context, data: WebsiteCreate) -> asyncpg.Record:
    await ctx.owner()
    name = data.name or data.domain
    async with ctx.db() as conn:
        try:
            return await websites.insert(
                conn,
                domain=data.domain,
                name=name,
                allowed_origins=data.allowed_origins,
                system_prompt=data.system_prompt,
                settings={"title": name},
            )
        except asyncpg.UniqueViolationError:
            raise BadUserInput(
                "You already have a website for this domain.", field="domain"
            ) from None


async def update(ctx: Context, website_id: uuid.UUID, data: WebsiteUpdate) -> asyncpg.Record:
    """Change what the client sent: a field it left out stays, a null one goes back to
    its default (the name to the domain, the title to the name, the model to LLM_MODEL,
    lists and the theme to empty, the rest to none)."""
    await ctx.owner()
    given = data.model_dump(exclude_unset=True)
    allowed = ctx.state.settings.allowed_models
    if given.get("model") is not None and given["model"] not in allowed:
        raise BadUserInput(
            f"`model` must be one of: {', '.join(sorted(allowed))} (LLM_ALLOWED_MODELS).",
            field="model",
        )
    changes: dict[str, Any] = {k: v for k, v in given.items() if k in _COLUMNS and v is not None}
    zone = given.get("time_zone")
    reset = [k for k, v in given.items() if k in _COLUMNS and v is None]
    public = {_SETTINGS[k]: v for k, v in given.items() if k in _SETTINGS}  # null: removed
    if public:
        changes["settings"] = public
    async with ctx.db() as conn:
        if zone is not None and not await websites.is_time_zone(conn, zone):
            raise BadUserInput(
                "`timeZone` must be an IANA time zone name like Europe/Berlin or UTC.",
                field="timeZone",
            )
        if changes or reset:
            row = await websites.update(conn, website_id, changes, reset)
        else:
            found = await websites.by_ids(conn, [website_id], owner_view=True)
            row = found[0] if found else None
    if row is None:
        raise NotFound("Website not found.")
    return row


async def delete(ctx: Context, website_id: uuid.UUID) -> bool:
    await ctx.owner()
    async with ctx.db() as conn:
        stored = await documents.in_storage(conn, website_id)
        if not await websites.delete(conn, website_id):
            raise NotFound("Website not found.")
    if ctx.state.store is not None:  # after the rows are gone
        for document_id in stored:
            await ctx.state.store.remove(object_path(website_id, document_id))
    return True


async def owned(ctx: Context) -> list[asyncpg.Record]:
    await ctx.owner()
    async with ctx.db() as conn:
        return await websites.owned(conn)
