"""GraphQL input types. Validation lives in app/validation.py (pydantic)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON


def given(value: object) -> dict[str, Any]:
    """The fields a client actually sent (UNSET ones left out), snake_case."""
    return {k: v for k, v in vars(value).items() if v is not strawberry.UNSET}


@strawberry.input
class CreateWebsiteInput:
    domain: str
    name: str | None = strawberry.UNSET
    allowed_origins: list[str] | None = strawberry.UNSET
    system_prompt: str | None = strawberry.UNSET


@strawberry.input
class UpdateWebsiteInput:
    name: str | None = strawberry.UNSET
    allowed_origins: list[str] | None = strawberry.UNSET
    system_prompt: str | None = strawberry.UNSET
    model: str | None = strawberry.UNSET
    temperature: float | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    welcome_message: str | None = strawberry.UNSET
    suggested_questions: list[str] | None = strawberry.UNSET
    theme: JSON | None = strawberry.UNSET
