"""GraphQL types of the owners' console (console/, served at /console/)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from askbase.app.auth.context import Context
from askbase.resolvers import console

Ctx = Info[Context, None]


@strawberry.type(description="An owner's sign-in to the console.")
class ConsoleSession:
    access_token: str = strawberry.field(
        description=(
            "Owner token: send it as `Authorization: Bearer <token>` (or in the WebSocket "
            "`connection_init` payload)."
        )
    )
    expires_at: datetime = strawberry.field(
        description="When the token expires; sign in again after that."
    )


@strawberry.type(description="Mutations of the owners' console.")
class ConsoleMutation:
    @strawberry.mutation(
        description=(
            "Exchanges a one-time sign-in code (from `askbase console-link`, or the link "
            "`askbase serve` prints in development) for an owner token; no auth needed. "
            "A code is valid for 10 minutes and signs in once. Fails with UNAUTHENTICATED, "
            "and the same message, for a code that is unknown, used or expired, and where "
            "owners sign in through Supabase Auth instead."
        )
    )
    async def redeem_console_code(
        self,
        info: Ctx,
        code: Annotated[
            str, strawberry.argument(description="The code from the link's `#code=` fragment.")
        ],
    ) -> ConsoleSession:
        session = await console.redeem_console_code(info.context, code)
        return ConsoleSession(access_token=session.access_token, expires_at=session.expires_at)
