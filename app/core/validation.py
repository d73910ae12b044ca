"""Input validation with pydantic; every failure becomes BAD_USER_INPUT naming the field
as the GraphQL schema names it (camelCase)."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic.alias_generators import to_camel

from askbase.app.core.errors import BadUserInput

_HOST = re.compile(
    r"^(?=.{1,253}$)(localhost|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63})$"
)
_ORIGIN = re.compile(
    r"^https?://(localhost|\[[0-9a-f:]+\]|[0-9.]+|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*"
    r"[a-z0-9-]{1,63})(:\d{1,5})?$"
)
MAX_THEME_BYTES = 4096
MAX_RETENTION_DAYS = 3650  # a website's `retentionDays`: ten years at most

Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], data: dict[str, Any]) -> Model:
    """`data` by the models' (snake_case) field names. A failure names the input field in
    camelCase, in the message (with the item: `allowedOrigins[1]`) and in
    `extensions.field` (the field alone: `allowedOrigins`)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field, path = graphql_path(model, first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise BadUserInput(
            f"Invalid `{path}`: {message}." if path else f"{message}.", field=field
        ) from None


def graphql_path(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[str, str]:
    """The GraphQL name of the input field a pydantic error location starts with, and the
    whole location written as GraphQL clients would (`suggestedQuestions[2]`,
    `theme.primary`). Names the model does not know (an unknown field, a key of a JSON
    object) stay as the client sent them."""
    if not loc:
        return "", ""
    head = str(loc[0])
    field = to_camel(head) if head in model.model_fields else head
    path = field
    for part in loc[1:]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return field, path


def _origin(value: str) -> str:
    value = value.strip().rstrip("/").lower()
    if value != "*" and not _ORIGIN.match(value):
        raise ValueError(f"'{value}' is not an origin like https://example.com or '*'")
    return value


Text200 = Annotated[str, Field(min_length=1, max_length=200)]


def _has_nul(value: Any) -> bool:
    """A NUL character anywhere in a value of nested lists and dicts, walked without
    recursion (a JSON value can be nested deeper than Python's recursion limit)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


class WebsiteCreate(_Strict):
    """A null field is an omitted one: it takes its default."""

    domain: str = Field(max_length=253)
    name: Text200 | None = None
    allowed_origins: list[str] = Field(default_factory=list, max_length=50)
    system_prompt: str | None = Field(None, max_length=8000)

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _none_allowed(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        value = value.lower()
        if not _HOST.match(value):
            raise ValueError("expected a host name like example.com (no scheme or path)")
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(_origin(v) for v in values))


class WebsiteUpdate(_Strict):
    """Only the fields a client sent are set (`model_fields_set`); a null one is reset to
    its default (app/tenancy/sites.py)."""

    name: Text200 | None = None
    allowed_origins: list[str] | None = Field(None, max_length=50)
    system_prompt: str | None = Field(None, max_length=8000)
    model: str | None = Field(None, min_length=1, max_length=100)
    temperature: float | None = Field(None, ge=0, le=2)
    title: Text200 | None = None
    welcome_message: str | None = Field(None, max_length=1000)
    suggested_questions: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        None, max_length=10
    )
    theme: dict[str, Any] | None = None
    trusted_documents_only: bool | None = None
    # An IANA name like Europe/Berlin; checked against the database's zone list.
    time_zone: str | None = Field(None, min_length=1, max_length=64)
    # Chats are deleted this many days after their last activity (app/insights/privacy.py).
    retention_days: int | None = Field(None, ge=1, le=MAX_RETENTION_DAYS)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else list(dict.fromkeys(_origin(v) for v in values))

    @field_validator("theme")
    @classmethod
    def _theme(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        for key, item in value.items():
            if not isinstance(item, str | int | float | bool):
                raise ValueError(f"the value of {key[:40]!r} must be a string, number or boolean")
        if len(json.dumps(value)) > MAX_THEME_BYTES:
            raise ValueError(f"must be at most {MAX_THEME_BYTES} bytes of JSON")
        return value


class ChatCreate(_Strict):
    title: str | None = Field(None, max_length=200)


def message_content(content: str, max_chars: int) -> str:
    text = content.strip()
    if not text:
        raise BadUserInput("`content` must not be empty.", field="content")
    if len(content) > max_chars:
        raise BadUserInput(
            f"`content` is longer than {max_chars} characters.",
            field="content",
            maxLength=max_chars,
        )
    if "\x00" in content:
        raise BadUserInput("`content` must not contain NUL characters.", field="content")
    return text
