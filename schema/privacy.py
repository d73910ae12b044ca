"""GraphQL types of privacy: deleting a visitor's data on request."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from askbase.app.auth.context import Context
from askbase.resolvers import privacy
from askbase.schema.inputs import scoping_id

Ctx = Info[Context, None]


@strawberry.type(description="What deleteVisitorData deleted.")
class DeleteVisitorDataResult:
    chats: int = strawberry.field(description="The visitor's chats deleted.")
    messages: int = strawberry.field(
        description="Messages of those chats deleted: the visitor's questions and the answers."
    )
    feedback: int = strawberry.field(description="Ratings of those answers deleted.")


@strawberry.type(description="Mutations of privacy.")
class PrivacyMutation:
    @strawberry.mutation(
        description=(
            "Owner only (FORBIDDEN for visitors). Deletes a visitor's chats on the website, "
            "with their messages and ratings and the visitor's questions in knowledge gaps, "
            "in one transaction (a GDPR erasure request). A visitor with no chats there "
            "deletes nothing: all counts are 0. Activity counts, which hold no text and no "
            "visitor id, stay."
        )
    )
    async def delete_visitor_data(
        self,
        info: Ctx,
        website_id: Annotated[strawberry.ID, scoping_id("website")],
        visitor_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description=(
                    "The visitor's id: the `visitorId` that startSession gave their widget, "
                    "and their chats' `visitorId`. A malformed id fails with BAD_USER_INPUT."
                )
            ),
        ],
    ) -> DeleteVisitorDataResult:
        deleted = await privacy.delete_visitor_data(info.context, website_id, visitor_id)
        return DeleteVisitorDataResult(
            chats=deleted.chats, messages=deleted.messages, feedback=deleted.feedback
        )
