"""GraphQL input types, and the descriptions of arguments that many fields share.
Validation lives in app/core/validation.py (pydantic)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from askbase.app.core.pagination import MAX_PAGE
from askbase.app.core.validation import MAX_RETENTION_DAYS


def page_size(default: int, limit: int = MAX_PAGE) -> Any:
    """A page-size argument (`first`) with its bounds, as app/core/pagination checks them."""
    return strawberry.argument(
        description=(
            f"How many items to return: 1..{limit}, default {default} (null also means "
            f"{default}); any other number fails with BAD_USER_INPUT (field `first`)."
        )
    )


def after_cursor() -> Any:
    return strawberry.argument(
        description=(
            "Return the items after this cursor: the `pageInfo.endCursor` of the previous "
            "page; null starts from the first item. A cursor this server did not make "
            "fails with BAD_USER_INPUT (field `after`)."
        )
    )


def lookup_id(kind: str) -> Any:
    """The id of a single-object lookup: null, never NOT_FOUND, for a missing object."""
    return strawberry.argument(
        description=(
            f"The {kind}'s id. No such {kind}, or one the caller may not see: the field is "
            "null (never NOT_FOUND). A malformed id fails with BAD_USER_INPUT."
        )
    )


def scoping_id(kind: str) -> Any:
    """The id of the object a list, a mutation or a subscription is about."""
    return strawberry.argument(
        description=(
            f"The {kind}'s id. No such {kind}, or one the caller may not see: the field "
            "fails with NOT_FOUND. A malformed id fails with BAD_USER_INPUT."
        )
    )


def given(value: object) -> dict[str, Any]:
    """The fields a client actually sent (UNSET ones left out; explicit nulls kept),
    snake_case."""
    return {k: v for k, v in vars(value).items() if v is not strawberry.UNSET}


@strawberry.input(description="A new website. Omitted and null fields take their defaults.")
class CreateWebsiteInput:
    domain: str = strawberry.field(
        description=(
            "Host name like docs.example.com (no scheme or path; stored in lower case). An "
            "owner has one website per domain."
        )
    )
    name: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="1..200 characters; default (null or omitted): the domain.",
    )
    allowed_origins: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Origins whose pages may start visitor sessions (at most 50), like "
            "https://shop.example, or `*` for any; default: none."
        ),
    )
    system_prompt: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Instructions for the model, at most 8000 characters; default: built in.",
    )


@strawberry.input(
    description=(
        "Changes to a website. An omitted field stays as it is; an explicit null resets the "
        "field to its default (named on each field); any other value replaces it."
    )
)
class UpdateWebsiteInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="1..200 characters. Null resets it to the domain."
    )
    allowed_origins: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Origins whose pages may start visitor sessions (at most 50), like "
            "https://shop.example, or `*` for any; replaces the whole list. Null resets it "
            "to none (`[]`)."
        ),
    )
    system_prompt: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Instructions for the model, at most 8000 characters. Null resets it to the "
            "built-in prompt."
        ),
    )
    model: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "The chat model of answers: LLM_MODEL or one of LLM_ALLOWED_MODELS (others fail "
            "with BAD_USER_INPUT). Null resets it to LLM_MODEL."
        ),
    )
    temperature: float | None = strawberry.field(
        default=strawberry.UNSET,
        description="Sampling temperature, 0..2. Null resets it to the model's default.",
    )
    title: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The widget's header, 1..200 characters. Null resets it to the name.",
    )
    welcome_message: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The widget's first message, at most 1000 characters. Null: none.",
    )
    suggested_questions: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Questions the widget offers (at most 10, each 1..200 characters); replaces the "
            "whole list. Null resets it to none (`[]`)."
        ),
    )
    theme: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Widget styling: an object of strings, numbers and booleans, at most 4096 bytes "
            "of JSON; replaces the whole theme. Null resets it to `{}`."
        ),
    )
    trusted_documents_only: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Whether visitors may run only trusted documents: the widget's own operations "
            "and the operator's TRUSTED_DOCUMENTS manifests (anything else is refused with "
            "FORBIDDEN before it runs). Null resets it to false, the default."
        ),
    )
    time_zone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "The IANA time zone (like Europe/Berlin) in which `activity` buckets hours and "
            "days. Null resets it to UTC, the default."
        ),
    )
    retention_days: int | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            f"Delete chats (with their messages and ratings) this many days after their "
            f"last activity, 1..{MAX_RETENTION_DAYS}. Null resets it to the default: keep "
            "chats until they are deleted."
        ),
    )
