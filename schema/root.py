"""The Query, Mutation and Subscription roots: argument plumbing and result mapping.

Not found, everywhere: a lookup of one object by id (`website`, `chat`, `document`,
`websiteSource`) is null when the object does not exist or the caller may not see it;
every other field that names an object by id (lists and connections of a parent, search,
usage, insights, mutations, subscriptions) fails with NOT_FOUND then. The contract's
types say the same: lookups are nullable, the rest is not."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from askbase.app.auth.context import Context
from askbase.app.knowledge.retrieval import MAX_LIMIT
from askbase.resolvers import chats, documents, health, websites
from askbase.resolvers import sources as website_sources
from askbase.schema.console import ConsoleMutation
from askbase.schema.handoff import HandoffMutation, HandoffQuery, HandoffSubscription
from askbase.schema.inputs import (
    CreateWebsiteInput,
    UpdateWebsiteInput,
    after_cursor,
    given,
    lookup_id,
    page_size,
    scoping_id,
)
from askbase.schema.insights import InsightsMutation, InsightsQuery
from askbase.schema.privacy import PrivacyMutation
from askbase.schema.sources import WebsiteSource, WebsiteSourceInput
from askbase.schema.types import (
    Chat,
    ChatConnection,
    ChatEvent,
    Document,
    DocumentConnection,
    DocumentStatus,
    Health,
    Message,
    MessageConnection,
    SearchHit,
    Session,
    UsageTotals,
    Website,
    chat_event,
)

Ctx = Info[Context, None]


@strawberry.type(
    description=(
        "Reads. A lookup of one object by id is null when it does not exist or the caller "
        "may not see it; fields that list the objects of a parent fail with NOT_FOUND then."
    )
)
class Query(InsightsQuery, HandoffQuery):
    @strawberry.field(description="Whether the service and its database are up; no auth.")
    async def health(self, info: Ctx) -> Health:
        ok, database, version = await health.health(info.context)
        return Health(ok=ok, database=database, version=version)

    @strawberry.field(
        description=(
            "A website: owners see all of their own, visitors the public part of their "
            "session's website. Null when not found or not visible."
        )
    )
    async def website(
        self, info: Ctx, id: Annotated[strawberry.ID, lookup_id("website")]
    ) -> Website | None:
        row = await websites.website(info.context, id)
        return Website.from_row(row) if row else None

    @strawberry.field(description="The caller's own websites, oldest first (owners).")
    async def websites(self, info: Ctx) -> list[Website]:
        return [Website.from_row(r) for r in await websites.my_websites(info.context)]

    @strawberry.field(
        description=(
            "A chat: visitors see their own chats, owners every chat of their websites. "
            "Null when not found or not visible."
        )
    )
    async def chat(self, info: Ctx, id: Annotated[strawberry.ID, lookup_id("chat")]) -> Chat | None:
        row = await chats.chat(info.context, id)
        return Chat.from_row(row) if row else None

    @strawberry.field(
        description=(
            "A website's chats, newest first: a visitor's own, or all of them for the owner. "
            "NOT_FOUND when the website is not found or not visible; FORBIDDEN for a visitor "
            "of another website."
        )
    )
    async def chats(
        self,
        info: Ctx,
        website_id: Annotated[strawberry.ID, scoping_id("website")],
        first: Annotated[int | None, page_size(20)] = 20,
        after: Annotated[str | None, after_cursor()] = None,
    ) -> ChatConnection:
        return ChatConnection.of(await chats.chat_page(info.context, website_id, first, after))

    @strawberry.field(
        description=(
            "A chat's messages, oldest first. NOT_FOUND when the chat is not found or not "
            "visible (where `chat(id)` is null)."
        )
    )
    async def messages(
        self,
        info: Ctx,
        chat_id: Annotated[strawberry.ID, scoping_id("chat")],
        first: Annotated[int | None, page_size(50)] = 50,
        after: Annotated[str | None, after_cursor()] = None,
    ) -> MessageConnection:
        return MessageConnection.of(await chats.message_page(info.context, chat_id, first, after))

    @strawberry.field(description="A document (owners). Null when not found or not visible.")
    async def document(
        self, info: Ctx, id: Annotated[strawberry.ID, lookup_id("document")]
    ) -> Document | None:
        row = await documents.document(info.context, id)
        return Document.from_row(row) if row else None

    @strawberry.field(
        description=(
            "A website's documents, newest first (owners). NOT_FOUND when the website is not "
            "found or not visible."
        )
    )
    async def documents(
        self,
        info: Ctx,
        website_id: Annotated[strawberry.ID, scoping_id("website")],
        first: Annotated[int | None, page_size(20)] = 20,
        after: Annotated[str | None, after_cursor()] = None,
        status: Annotated[
            DocumentStatus | None,
            strawberry.argument(description="Only documents in this status; null: all."),
        ] = None,
    ) -> DocumentConnection:
        page = await documents.document_page(
            info.context, website_id, first, after, str(status.value) if status else None
        )
        return DocumentConnection.of(page)

    @strawberry.field(
        description=(
            "Answers and tokens of a website's assistant in [from, to), per model (owners). "
            "NOT_FOUND when the website is not found or not visible."
        )
    )
    async def usage(
        self,
        info: Ctx,
        website_id: Annotated[strawberry.ID, scoping_id("website")],
        from_: Annotated[
            datetime | None,
            strawberry.argument(
                name="from", description="Start of the period, inclusive; null: no start."
            ),
        ] = None,
        to: Annotated[
            datetime | None,
            strawberry.argument(description="End of the period, exclusive; null: no end."),
        ] = None,
    ) -> UsageTotals:
        return UsageTotals.of(await chats.usage(info.context, website_id, from_, to))

    @strawberry.field(
        description=(
            "Hybrid (vector + full-text) search of a website's documents, best first: the "
            "owner's, or a visitor's of their session's website. NOT_FOUND when the website "
            "is not found or not visible; FORBIDDEN for a visitor of another website."
        )
    )
    async def search(
        self,
        info: Ctx,
        website_id: Annotated[strawberry.ID, scoping_id("website")],
        query: Annotated[str, strawberry.argument(description="What to look for, in plain words.")],
        limit: Annotated[
            int | None,
            strawberry.argument(
                description=(
                    f"How many hits to return: 1..{MAX_LIMIT}, default 5 (null also means "
                    "5); any other number fails with BAD_USER_INPUT (field `limit`)."
                )
            ),
        ] = 5,
    ) -> list[SearchHit]:
        hits = await documents.run_search(info.context, website_id, query, limit)
        return [SearchHit.of(h) for h in hits]

    @strawberry.field(
        description=(
            "A website's sources, oldest first (owners). NOT_FOUND when the website is not "
            "found or not visible."
        )
    )
    async def website_sources(
        self, info: Ctx, website_id: Annotated[strawberry.ID, scoping_id("website")]
    ) -> list[WebsiteSource]:
        rows = await website_sources.of_website(info.context, website_id)
        return [WebsiteSource.from_row(r) for r in rows]

    @strawberry.field(description="A website source (owners). Null when not found or not visible.")
    async def website_source(
        self, info: Ctx, id: Annotated[strawberry.ID, lookup_id("website source")]
    ) -> WebsiteSource | None:
        row = await website_sources.get(info.context, id)
        return WebsiteSource.from_row(row) if row else None


@strawberry.type(
    description=(
        "Changes. A mutation that names an object that does not exist, or that the caller "
        "may not see, fails with NOT_FOUND."
    )
)
class Mutation(InsightsMutation, PrivacyMutation, HandoffMutation, ConsoleMutation):
    @strawberry.mutation(description="Creates a website owned by the caller (owners).")
    async def create_website(
        self,
        info: Ctx,
        input: Annotated[CreateWebsiteInput, strawberry.argument(description="The new website.")],
    ) -> Website:
        return Website.from_row(await websites.create_website(info.context, given(input)))

    @strawberry.mutation(
        description=(
            "Changes a website's name and settings (owners): omitted fields stay, null ones "
            "go back to their defaults."
        )
    )
    async def update_website(
        self,
        info: Ctx,
        id: Annotated[strawberry.ID, scoping_id("website")],
        input: Annotated[UpdateWebsiteInput, strawberry.argument(description="The changes.")],
    ) -> Website:
        return Website.from_row(await websites.update_website(info.context, id, given(input)))

    @strawberry.mutation(
        description=(
            "Deletes a website with its chats, documents and sources (owners); true once "
            "it is gone."
        )
    )
    async def delete_website(
        self, info: Ctx, id: Annotated[strawberry.ID, scoping_id("website")]
    ) -> bool:
        return await websites.delete_website(info.context, id)

    @strawberry.mutation(
        description=(
            "Anonymous visitor token for the widget, from an origin the website allows "
            "(FORBIDDEN otherwise). Sent with a valid visitor token of the same website, it "
            "renews the session and keeps the visitor id."
        )
    )
    async def start_session(
        self, info: Ctx, website_id: Annotated[strawberry.ID, scoping_id("website")]
    ) -> Session:
        new = await websites.start_session(info.context, website_id)
        return Session(
            token=new.token,
            visitor_id=strawberry.ID(str(new.visitor_id)),
            expires_at=new.expires_at,
            website=Website.from_row(new.website),
        )

    @strawberry.mutation(
        description=(
            "Starts a chat on a website: a visitor's own (of their session's website), or "
            "the owner's."
        )
    )
    async def create_chat(
        self,
        info: Ctx,
        website_id: Annotated[strawberry.ID, scoping_id("website")],
        title: Annotated[
            str | None,
            strawberry.argument(description="At most 200 characters; null: no title."),
        ] = None,
    ) -> Chat:
        return Chat.from_row(await chats.create_chat(info.context, website_id, title))

    @strawberry.mutation(description="Stores a message, no answer (chatStream asks and answers).")
    async def add_message(
        self,
        info: Ctx,
        chat_id: Annotated[strawberry.ID, scoping_id("chat")],
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
        return Message.from_row(await chats.add_message(info.context, chat_id, content))

    @strawberry.mutation(description="Deletes a chat with its messages; true once it is gone.")
    async def delete_chat(
        self, info: Ctx, id: Annotated[strawberry.ID, scoping_id("chat")]
    ) -> bool:
        return await chats.delete_chat(info.context, id)

    @strawberry.mutation(
        description=(
            "Stores a file and queues its ingestion; returns it PENDING (owners). GraphQL "
            "multipart request spec, sent to the /graphql/upload route."
        )
    )
    async def upload_document(
        self,
        info: Ctx,
        website_id: Annotated[strawberry.ID, scoping_id("website")],
        file: Annotated[
            Upload,
            strawberry.argument(
                description=(
                    "PDF, DOCX, HTML, Markdown or text, at most MAX_UPLOAD_BYTES (20 MB "
                    "unless the operator set it; PAYLOAD_TOO_LARGE beyond)."
                )
            ),
        ],
    ) -> Document:
        return Document.from_row(await documents.upload(info.context, website_id, file))

    @strawberry.mutation(
        description="Stores a text as a document and queues its ingestion (owners)."
    )
    async def add_document_text(
        self,
        info: Ctx,
        website_id: Annotated[strawberry.ID, scoping_id("website")],
        filename: Annotated[
            str,
            strawberry.argument(
                description="Its name, at most 255 characters; the extension helps detect the type."
            ),
        ],
        text: Annotated[str, strawberry.argument(description="The document's content.")],
    ) -> Document:
        row = await documents.add_text(info.context, website_id, filename, text)
        return Document.from_row(row)

    @strawberry.mutation(
        description="Deletes a document with its passages and file (owners); true once gone."
    )
    async def delete_document(
        self, info: Ctx, id: Annotated[strawberry.ID, scoping_id("document")]
    ) -> bool:
        return await documents.delete_document(info.context, id)

    @strawberry.mutation(
        description="Adds a source to a website and starts its first sync (owners)."
    )
    async def add_website_source(
        self,
        info: Ctx,
        website_id: Annotated[strawberry.ID, scoping_id("website")],
        input: Annotated[WebsiteSourceInput, strawberry.argument(description="The source to add.")],
    ) -> WebsiteSource:
        row = await website_sources.add(info.context, website_id, input.new())
        return WebsiteSource.from_row(row)

    @strawberry.mutation(
        description="Queues a sync of a source now, unless one is queued or running (owners)."
    )
    async def sync_website_source(
        self, info: Ctx, id: Annotated[strawberry.ID, scoping_id("website source")]
    ) -> WebsiteSource:
        return WebsiteSource.from_row(await website_sources.sync(info.context, id))

    @strawberry.mutation(
        description="Deletes a source and the documents it stored (owners); true once gone."
    )
    async def delete_website_source(
        self, info: Ctx, id: Annotated[strawberry.ID, scoping_id("website source")]
    ) -> bool:
        return await website_sources.delete(info.context, id)


@strawberry.type(
    description=(
        "Live results over WebSockets (graphql-transport-ws or graphql-ws), Server-Sent "
        "Events or multipart responses."
    )
)
class Subscription(HandoffSubscription):
    @strawberry.subscription(
        description=(
            "Stores the user message, retrieves context, streams the answer, stores it. "
            "Order: SourcesFound once, TokenDelta*, then exactly one MessageDone or ChatFailed."
        )
    )
    async def chat_stream(
        self,
        info: Ctx,
        chat_id: Annotated[strawberry.ID, scoping_id("chat")],
        message: Annotated[
            str,
            strawberry.argument(
                description=(
                    "The question: not blank, at most MAX_MESSAGE_CHARS characters (8000 "
                    "unless the operator set it)."
                )
            ),
        ],
    ) -> AsyncGenerator[ChatEvent, None]:
        state = info.context.state
        async with state.drain.answering():
            with state.metrics.subscriptions.labels("chatStream").track_inprogress():
                async for event in chats.chat_stream(info.context, chat_id, message):
                    yield chat_event(event)

    @strawberry.subscription(
        description=("Emits the document on every status change until READY or FAILED (owners).")
    )
    async def document_status(
        self, info: Ctx, document_id: Annotated[strawberry.ID, scoping_id("document")]
    ) -> AsyncGenerator[Document, None]:
        with info.context.state.metrics.subscriptions.labels("documentStatus").track_inprogress():
            async for row in documents.status_changes(info.context, document_id):
                yield Document.from_row(row)

    @strawberry.subscription(
        description=(
            "Emits the source on every progress change of a sync, ending after it is IDLE "
            "or FAILED (owners)."
        )
    )
    async def website_source_status(
        self, info: Ctx, source_id: Annotated[strawberry.ID, scoping_id("website source")]
    ) -> AsyncGenerator[WebsiteSource, None]:
        metrics = info.context.state.metrics.subscriptions.labels("websiteSourceStatus")
        with metrics.track_inprogress():
            async for row in website_sources.status_changes(info.context, source_id):
                yield WebsiteSource.from_row(row)
