"""Errors that are safe to show to clients, each with a stable `code`."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        # graphql-core copies a dict `extensions` of the original error onto the
        # GraphQLError it builds, so the code reaches clients on every path.
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class BadUserInput(AppError):
    code = "BAD_USER_INPUT"


class Unauthenticated(AppError):
    code = "UNAUTHENTICATED"


class Forbidden(AppError):
    code = "FORBIDDEN"


class NotFound(AppError):
    code = "NOT_FOUND"


class PayloadTooLarge(AppError):
    code = "PAYLOAD_TOO_LARGE"


class Unavailable(AppError):
    code = "UNAVAILABLE"


class RateLimited(AppError):
    code = "RATE_LIMITED"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests; retry in {retry_after} s.", retryAfter=retry_after)
        self.retry_after = retry_after


def is_outage(error: BaseException) -> bool:
    """The database (or another dependency) cannot be reached: retryable, not a bug."""
    import asyncpg

    return isinstance(
        error,
        OSError
        | TimeoutError
        | asyncpg.InterfaceError
        # A connection caught mid-statement by the outage: it is closed, then replaced.
        | asyncpg.InternalClientError
        | asyncpg.CannotConnectNowError
        | asyncpg.ConnectionDoesNotExistError
        | asyncpg.AdminShutdownError,
    )
