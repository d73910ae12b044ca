"""Opaque keyset cursors over (created_at, id)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from askbase.app.core.errors import BadUserInput

T = TypeVar("T")
MAX_PAGE = 100


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, _, row_id = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
        created_at = datetime.fromisoformat(stamp)
        if created_at.tzinfo is None:
            raise ValueError("naive timestamp")
        return created_at, uuid.UUID(row_id)
    except (ValueError, UnicodeDecodeError):
        raise BadUserInput("`after` is not a valid cursor.", field="after") from None


def check_first(first: int | None, default: int = 20) -> int:
    """The page size: `first`, or `default` when the client sent null."""
    if first is None:
        return default
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput(f"`first` must be between 1 and {MAX_PAGE}.", field="first")
    return first


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    has_next: bool
    end_cursor: str | None


def make_page(
    rows: Sequence[T], first: int, key: tuple[str, str] = ("created_at", "id")
) -> Page[T]:
    """`rows` were fetched with limit first + 1; the extra row only tells that more exist."""
    items = rows[:first]
    end = None
    if items:
        last = items[-1]
        end = encode_cursor(last[key[0]], last[key[1]])  # type: ignore[index]
    return Page(items=items, has_next=len(rows) > first, end_cursor=end)
