"""GraphQL of "A human when needed": asking for a person, taking chats over, replying as
the website's team, live chat and website activity, the hand-off webhook."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import asyncpg
import strawberry
from strawberry.types import Info

from askbase.app.auth.context import Context
from askbase.app.chat import handoff as domain
from askbase.app.chat.webhooks import SIGNATURE_HEADER
from askbase.resolvers import handoff
from askbase.schema.inputs import page_size, scoping_id
from askbase.schema.types import Chat, Message

Ctx = Info[Context, None]
CHAT_ID = scoping_id("chat")
WEBSITE_ID = scoping_id("website")


@strawberry.type(description="A message was stored in the chat (chatEvents).")
class ChatMessageAdded:
    message: Message = strawberry.field(
        description=("The finished message: the visitor's, the team's (OWNER) or the assistant's.")
    )


@strawberry.type(
    description=(
        "The chat's hand-off state (chatEvents): sent first, with the state at the start, "
        "then whenever it changes."
    )
)
class HandoffChanged:
    chat: Chat = strawberry.field(description="The chat, with its `handoff` state.")


ChatActivity = Annotated[
    ChatMessageAdded | HandoffChanged,
    strawberry.union(
        "ChatActivity",
        description="Something that happened in a chat (chatEvents).",
    ),
]


@strawberry.type(description="A chat was started on the website (websiteEvents).")
class ChatStarted:
    chat: Chat = strawberry.field(description="The new chat.")


@strawberry.type(description="A person was asked for in a chat (websiteEvents).")
class HandoffRequested:
    chat: Chat = strawberry.field(
        description="The chat, with `handoffRequestedAt` and the visitor's `handoffNote`."
    )


WebsiteEvent = Annotated[
    ChatStarted | HandoffRequested,
    strawberry.union(
        "WebsiteEvent",
        description="A new chat or a request for a person on a website (websiteEvents).",
    ),
]


@strawberry.type(description="Where the website's hand-off requests are posted (owners).")
class HandoffWebhook:
    url: str = strawberry.field(description="The https (or http) URL that receives a POST.")
    secret: str = strawberry.field(
        description=(
            f"Signs each delivery: `{SIGNATURE_HEADER}: sha256=<hex>` is the HMAC-SHA256 of "
            "the exact body with this secret."
        )
    )
    updated_at: datetime = strawberry.field(description="When the URL or secret last changed.")

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> HandoffWebhook:
        return cls(url=row["url"], secret=row["secret"], updated_at=row["updated_at"])


@strawberry.type(description="One attempt to deliver a hand-off request to the webhook.")
class HandoffDelivery:
    id: strawberry.ID = strawberry.field(description="The attempt's id.")
    event_id: strawberry.ID = strawberry.field(
        description="The request delivered (`X-Askbase-Delivery`); its attempts share it."
    )
    chat_id: strawberry.ID | None = strawberry.field(
        description="The chat that asked; null once it is deleted."
    )
    attempt: int = strawberry.field(description="1 for the first attempt, then 2, 3...")
    url: str = strawberry.field(description="Where it was posted.")
    status_code: int | None = strawberry.field(
        description="The HTTP status of the answer; null when none came."
    )
    ok: bool = strawberry.field(description="Delivered (a 2xx answer).")
    error: str | None = strawberry.field(description="Why it failed, readable; null when ok.")
    created_at: datetime = strawberry.field(description="When the attempt ended.")

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> HandoffDelivery:
        return cls(
            id=strawberry.ID(str(row["id"])),
            event_id=strawberry.ID(str(row["event_id"])),
            chat_id=strawberry.ID(str(row["chat_id"])) if row["chat_id"] else None,
            attempt=row["attempt"],
            url=row["url"],
            status_code=row["status_code"],
            ok=row["ok"],
            error=row["error"],
            created_at=row["created_at"],
        )


@strawberry.type(description="Query fields of hand-offs (owners).")
class HandoffQuery:
    @strawberry.field(
        description="Owner only. The website's hand-off webhook; null when none is set."
    )
    async def handoff_webhook(
        self, info: Ctx, website_id: Annotated[strawberry.ID, WEBSITE_ID]
    ) -> HandoffWebhook | None:
        row = await handoff.webhook(info.context, website_id)
        return HandoffWebhook.from_row(row) if row else None

    @strawberry.field(
        description="Owner only. The latest attempts to deliver hand-off requests, newest first."
    )
    async def handoff_deliveries(
        self,
        info: Ctx,
        website_id: Annotated[strawberry.ID, WEBSITE_ID],
        first: Annotated[int | None, page_size(20)] = 20,
    ) -> list[HandoffDelivery]:
        rows = await handoff.deliveries(info.context, website_id, first)
        return [HandoffDelivery.from_row(r) for r in rows]


@strawberry.type(description="Mutations of hand-offs.")
class HandoffMutation:
    @strawberry.mutation(
        description=(
            "Asks for a person of the website's team: the visitor who owns the chat, or the "
            "owner. The chat becomes REQUESTED (a chat taken over stays so), the owner's "
            "websiteEvents and webhook hear of it; the assistant answers meanwhile."
        )
    )
    async def request_human(
        self,
        info: Ctx,
        chat_id: Annotated[strawberry.ID, CHAT_ID],
        note: Annotated[
            str | None,
            strawberry.argument(
                description=f"What it is about, at most {domain.MAX_NOTE_CHARS} characters."
            ),
        ] = None,
    ) -> Chat:
        return Chat.from_row(await handoff.request_human(info.context, chat_id, note))

    @strawberry.mutation(
        description=(
            "Owner only. Takes the chat over: the assistant stays silent in it (chatStream "
            "stores the visitor's questions and ends with ChatFailed HUMAN_HANDLING) until "
            "releaseChat."
        )
    )
    async def take_over_chat(self, info: Ctx, chat_id: Annotated[strawberry.ID, CHAT_ID]) -> Chat:
        return Chat.from_row(await handoff.take_over(info.context, chat_id))

    @strawberry.mutation(
        description="Owner only. Hands the chat back to the assistant (its state is NONE)."
    )
    async def release_chat(self, info: Ctx, chat_id: Annotated[strawberry.ID, CHAT_ID]) -> Chat:
        return Chat.from_row(await handoff.release(info.context, chat_id))

    @strawberry.mutation(
        description=(
            "Owner only. Writes in the chat as the website's team (role OWNER); the "
            "visitor's chatEvents delivers it live."
        )
    )
    async def reply_to_chat(
        self,
        info: Ctx,
        chat_id: Annotated[strawberry.ID, CHAT_ID],
        content: Annotated[
            str,
            strawberry.argument(
                description=(
                    "The text: not blank, at most MAX_MESSAGE_CHARS characters (8000 unless "
                    "the operator set it)."
                )
            ),
        ],
    ) -> Message:
        return Message.from_row(await handoff.reply(info.context, chat_id, content))

    @strawberry.mutation(
        description=(
            "Owner only. Sets the URL that hand-off requests are posted to (signed, retried, "
            "logged in handoffDeliveries), or removes it (null or empty: returns null). A "
            "new webhook gets a new secret. A loopback, private, link-local or reserved "
            "address is refused with BAD_USER_INPUT unless the operator allow-listed it."
        )
    )
    async def set_handoff_webhook(
        self,
        info: Ctx,
        website_id: Annotated[strawberry.ID, WEBSITE_ID],
        url: Annotated[
            str | None,
            strawberry.argument(description="An http(s) URL, at most 2048 characters; null: none."),
        ],
        rotate_secret: Annotated[
            bool | None,
            strawberry.argument(description="Replace the secret with a new one (null: false)."),
        ] = False,
    ) -> HandoffWebhook | None:
        row = await handoff.set_webhook(info.context, website_id, url, bool(rotate_secret))
        return HandoffWebhook.from_row(row) if row else None


def chat_activity(
    event: domain.MessageAdded | domain.HandoffChanged,
) -> ChatMessageAdded | HandoffChanged:
    if isinstance(event, domain.MessageAdded):
        return ChatMessageAdded(message=Message.from_row(event.message))
    return HandoffChanged(chat=Chat.from_row(event.chat))


@strawberry.type(description="Subscriptions of hand-offs.")
class HandoffSubscription:
    @strawberry.subscription(
        description=(
            "A chat's activity, for the visitor who owns it or the owner: HandoffChanged "
            "first (the state now), then every message finished in it (ChatMessageAdded: "
            "the visitor's, the team's, the assistant's) and every change of its hand-off "
            "state, until the client stops it."
        )
    )
    async def chat_events(
        self, info: Ctx, chat_id: Annotated[strawberry.ID, CHAT_ID]
    ) -> AsyncGenerator[ChatActivity, None]:
        metrics = info.context.state.metrics.subscriptions.labels("chatEvents")
        with metrics.track_inprogress():
            async for event in handoff.chat_events(info.context, chat_id):
                yield chat_activity(event)

    @strawberry.subscription(
        description=(
            "Owner only. The website's new chats and requests for a person, live (for the "
            "owner console). Pass `since` to also get those after that time (at most 24 "
            "hours back), so that none is missed between a page load and the subscription."
        )
    )
    async def website_events(
        self,
        info: Ctx,
        website_id: Annotated[strawberry.ID, WEBSITE_ID],
        since: Annotated[
            datetime | None,
            strawberry.argument(description="Replay events from this time on; null: from now."),
        ] = None,
    ) -> AsyncGenerator[WebsiteEvent, None]:
        metrics = info.context.state.metrics.subscriptions.labels("websiteEvents")
        with metrics.track_inprogress():
            async for event in handoff.website_events(info.context, website_id, since):
                if isinstance(event, domain.ChatStarted):
                    yield ChatStarted(chat=Chat.from_row(event.chat))
                else:
                    yield HandoffRequested(chat=Chat.from_row(event.chat))
