"""GraphQL types of "Learning from conversations": ratings, knowledge gaps, activity."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import asyncpg
import strawberry
from strawberry.types import Info

from askbase.app.auth.context import Context
from askbase.app.insights.feedback import MAX_COMMENT_CHARS
from askbase.app.insights.gaps import MAX_FIRST
from askbase.resolvers import insights
from askbase.schema.inputs import page_size, scoping_id

Ctx = Info[Context, None]


@strawberry.enum(description="A rating of an answer.")
class Rating(Enum):
    UP = strawberry.enum_value("up", description="The answer helped.")
    DOWN = strawberry.enum_value(
        "down", description="The answer did not help (the question becomes a knowledge gap)."
    )


@strawberry.enum(description="Why a question counts as not answered well.")
class GapReason(Enum):
    NO_SOURCES = strawberry.enum_value(
        "no_sources", description="No passage of the website's documents matched it."
    )
    LOW_CONFIDENCE = strawberry.enum_value(
        "low_confidence", description="The sources supported the answer only weakly."
    )
    DECLINED = strawberry.enum_value(
        "declined", description="The assistant said that it could not answer."
    )
    RATED_DOWN = strawberry.enum_value("rated_down", description="The answer was rated DOWN.")


@strawberry.enum(description="The length of one point of an activity series.")
class Bucket(Enum):
    HOUR = strawberry.enum_value("hour", description="One point per hour.")
    DAY = strawberry.enum_value("day", description="One point per day (UTC).")


@strawberry.type(description="The rating of an assistant message (rateMessage).")
class Feedback:
    message_id: strawberry.ID = strawberry.field(description="The rated assistant message.")
    rating: Rating = strawberry.field(description="Up or down.")
    comment: str | None = strawberry.field(description="Why, in the rater's words; optional.")
    created_at: datetime = strawberry.field(description="When it was (last) rated.")

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Feedback:
        return cls(
            message_id=strawberry.ID(str(row["message_id"])),
            rating=Rating(row["rating"]),
            comment=row["comment"],
            created_at=row["created_at"],
        )


@strawberry.type(
    description=(
        "Questions close in meaning that were not answered well: something the website's "
        "documents should cover."
    )
)
class KnowledgeGap:
    id: strawberry.ID = strawberry.field(description="The gap's id.")
    question: str = strawberry.field(description="The most typical wording of the group.")
    examples: list[str] = strawberry.field(description="Other wordings seen.")
    count: int = strawberry.field(description="How often it was asked in [from, to).")
    reasons: list[GapReason] = strawberry.field(
        description="Why its answers fell short (each reason once)."
    )
    first_asked_at: datetime = strawberry.field(description="First time asked in [from, to).")
    last_asked_at: datetime = strawberry.field(description="Last time asked in [from, to).")
    resolved: bool = strawberry.field(
        description="Marked resolved (resolveKnowledgeGap) and not asked since."
    )

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


@strawberry.type(description="A website's activity in one hour or day.")
class ActivityPoint:
    at: datetime = strawberry.field(description="Start of the bucket.")
    chats: int = strawberry.field(description="Chats started.")
    questions: int = strawberry.field(description="Questions asked.")
    answered: int = strawberry.field(description="Answers with sources that were not declined.")
    unanswered: int = strawberry.field(
        description="Other finished answers: no sources, declined, incomplete or failed."
    )
    rated_up: int = strawberry.field(description="Answers rated UP.")
    rated_down: int = strawberry.field(description="Answers rated DOWN.")
    total_tokens: int = strawberry.field(description="Model tokens of the answers.")


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


WEBSITE_ID = scoping_id("website")
FROM = "Start of the period, inclusive"
TO = "End of the period, exclusive"


@strawberry.type(description="Query fields of learning from conversations (owners).")
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
        website_id: Annotated[strawberry.ID, WEBSITE_ID],
        from_: Annotated[
            datetime | None,
            strawberry.argument(name="from", description=f"{FROM}; null: no start."),
        ] = None,
        to: Annotated[
            datetime | None, strawberry.argument(description=f"{TO}; null: no end.")
        ] = None,
        first: Annotated[int | None, page_size(20, MAX_FIRST)] = 20,
        include_resolved: Annotated[
            bool | None,
            strawberry.argument(
                description="Also gaps marked resolved and not asked since (null: false)."
            ),
        ] = False,
    ) -> list[KnowledgeGap]:
        rows = await insights.knowledge_gaps(
            info.context, website_id, from_, to, first, bool(include_resolved)
        )
        return [KnowledgeGap.from_row(r) for r in rows]

    @strawberry.field(
        description=(
            "Owner only. Activity per hour or day in [from, to), one point per bucket (empty "
            "ones too), oldest first; buckets start at whole hours and at midnight in the "
            "website's `settings.timeZone` (default UTC)."
        )
    )
    async def activity(
        self,
        info: Ctx,
        website_id: Annotated[strawberry.ID, WEBSITE_ID],
        from_: Annotated[
            datetime,
            strawberry.argument(
                name="from", description=f"{FROM}; the range spans at most 400 days."
            ),
        ],
        to: Annotated[datetime, strawberry.argument(description=f"{TO}.")],
        bucket: Annotated[
            Bucket | None,
            strawberry.argument(
                description="Hour or day points (null: DAY); at most 10,000 points."
            ),
        ] = Bucket.DAY,
    ) -> list[ActivityPoint]:
        unit = str((bucket or Bucket.DAY).value)
        rows = await insights.activity_series(info.context, website_id, from_, to, unit)
        return [ActivityPoint(**{n: r[n] for n in ACTIVITY_FIELDS}) for r in rows]


@strawberry.type(description="Mutations of learning from conversations.")
class InsightsMutation:
    @strawberry.mutation(
        description=(
            "Rates an assistant message: the visitor who owns the chat, or the website's "
            "owner. Rating again replaces the rating. Fails with NOT_FOUND when the message "
            "does not exist or is not visible to the caller."
        )
    )
    async def rate_message(
        self,
        info: Ctx,
        message_id: Annotated[
            strawberry.ID, strawberry.argument(description="The assistant message to rate.")
        ],
        rating: Annotated[Rating, strawberry.argument(description="Up or down.")],
        comment: Annotated[
            str | None,
            strawberry.argument(
                description=f"Why, in the rater's words (at most {MAX_COMMENT_CHARS} characters)."
            ),
        ] = None,
    ) -> Feedback:
        row = await insights.rate_message(info.context, message_id, str(rating.value), comment)
        return Feedback.from_row(row)

    @strawberry.mutation(
        description=(
            "Owner only. Hides the gap until it is asked again. Fails with NOT_FOUND when "
            "the gap does not exist or is not the caller's."
        )
    )
    async def resolve_knowledge_gap(
        self,
        info: Ctx,
        id: Annotated[strawberry.ID, strawberry.argument(description="The gap to resolve.")],
    ) -> KnowledgeGap:
        return KnowledgeGap.from_row(await insights.resolve_knowledge_gap(info.context, id))
