"""GraphQL arguments as the app layer takes them: IDs parsed into UUIDs, a bad one
refused with BAD_USER_INPUT naming the argument."""

from __future__ import annotations

import uuid

from askbase.app.core.errors import BadUserInput


def parse_id(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise BadUserInput(f"`{field}` is not a valid id.", field=field) from None
