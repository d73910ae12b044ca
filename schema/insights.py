"""GraphQL types of "Learning from conversations": ratings, knowledge gaps, activity."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import asyncpg
import strawberry
from strawberry.types import Info

from askbase.app.auth.context import Context
from askbase.resolvers import insights

Ctx = Info[Context, None]


@strawberry.enum
class Rating(Enum):
    UP = "up"
    DOWN = "down"


@strawberry.enum
class GapReason(Enum):
    NO_SOURCES = "no_sources"
    LOW_CONFIDENCE = "low_confidence"
    DECLINED = "declined"
    RATED_DOWN = "rated_down"


@strawberry.enum
class Bucket(Enum):
    HOUR = "hour"
    DAY = "day"


@strawberry.type
class Feedback:
    message_id: strawberry.ID
    rating: Rating
    comment: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Feedback:
        return cls(
            message_id=strawberry.ID(str(row["message_id"])),
            rating=Rating(row["rating"]),
            comment=row["comment"],
            created_at=row["created_at"],
        )


@strawberry.type
class KnowledgeGap:
    id: strawberry.ID
    question: str = strawberry.field(description="The most typical wording of the group.")
    examples: list[str] = strawberry.field(description="Other wordings seen.")
    count: int
    reasons: list[GapReason]
    first_asked_at: datetime
    last_asked_at: datetime
    resolved: bool

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> KnowledgeGap:
        return cls(
            id=strawberry.ID(str(row["id"])),
            question=row["question"],
            examples=list(row["examples"]),
            count=row["count"],
            reasons=[GapReason(r) for r in row["reasons"]],
            first_asked_at=row["first_asked_at"],
            last_asked_at=row["last_asked_at"],
            resolved=row["resolved"],
        )


@strawberry.type
class ActivityPoint:
    at: datetime
    chats: int
    questions: int
    answered: int = strawberry.field(description="Answers with sources that were not declined.")
    unanswered: int
    rated_up: int
    rated_down: int
    total_tokens: int


ACTIVITY_FIELDS = (
    "at",
    "chats",
    "questions",
    "answered",
    "unanswered",
    "rated_up",
    "rated_down",
    "total_tokens",
)


async def message_feedback(info: Ctx, message_id: strawberry.ID) -> Feedback | None:
    row = await insights.message_feedback(info.context, message_id)
    return Feedback.from_row(row) if row else None


@strawberry.type
class InsightsQuery:
    @strawberry.field(
        description=(
            "Owner only. Unanswered, low-confidence, declined and rated-down questions, "
            "grouped by meaning (different wordings of one question are one gap), most "
            "frequent first."
        )
    )
    async def knowledge_gaps(
        self,
        info: Ctx,
        website_id: strawberry.ID,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        first: int | None = 20,
        include_resolved: bool | None = False,
    ) -> list[KnowledgeGap]:
        rows = await insights.knowledge_gaps(
            info.context, website_id, from_, to, first, bool(include_resolved)
        )
        return [KnowledgeGap.from_row(r) for r in rows]

    @strawberry.field(description="Owner only. Activity per hour or day in [from, to), UTC.")
    async def activity(
        self,
        info: Ctx,
        website_id: strawberry.ID,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        bucket: Bucket | None = Bucket.DAY,
    ) -> list[ActivityPoint]:
        unit = (bucket or Bucket.DAY).value
        rows = await insights.activity_series(info.context, website_id, from_, to, unit)
        return [ActivityPoint(**{n: r[n] for n in ACTIVITY_FIELDS}) for r in rows]


@strawberry.type
class InsightsMutation:
    @strawberry.mutation(
        description=(
            "The visitor who owns the chat, or the website's owner. Rating again replaces "
            "the rating."
        )
    )
    async def rate_message(
        self, info: Ctx, message_id: strawberry.ID, rating: Rating, comment: str | None = None
    ) -> Feedback:
        row = await insights.rate_message(info.context, message_id, rating.value, comment)
        return Feedback.from_row(row)

    @strawberry.mutation(description="Owner only. Hides the gap until it is asked again.")
    async def resolve_knowledge_gap(self, info: Ctx, id: strawberry.ID) -> KnowledgeGap:
        return KnowledgeGap.from_row(await insights.resolve_knowledge_gap(info.context, id))
