"""The Query, Mutation and Subscription roots: argument plumbing and result mapping."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from askbase.app.auth.context import Context
from askbase.resolvers import chats, documents, health, websites
from askbase.resolvers import sources as website_sources
from askbase.schema.inputs import CreateWebsiteInput, UpdateWebsiteInput, given
from askbase.schema.insights import InsightsMutation, InsightsQuery
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


@strawberry.type
class Query(InsightsQuery):
    @strawberry.field
    async def health(self, info: Ctx) -> Health:
        ok, database, version = await health.health(info.context)
        return Health(ok=ok, database=database, version=version)

    @strawberry.field(description="Visitors see the public part only.")
    async def website(self, info: Ctx, id: strawberry.ID) -> Website | None:
        row = await websites.website(info.context, id)
        return Website.from_row(row) if row else None

    @strawberry.field(description="The caller's own websites.")
    async def websites(self, info: Ctx) -> list[Website]:
        return [Website.from_row(r) for r in await websites.my_websites(info.context)]

    @strawberry.field
    async def chat(self, info: Ctx, id: strawberry.ID) -> Chat | None:
        row = await chats.chat(info.context, id)
        return Chat.from_row(row) if row else None

    @strawberry.field
    async def chats(
        self, info: Ctx, website_id: strawberry.ID, first: int | None = 20, after: str | None = None
    ) -> ChatConnection:
        return ChatConnection.of(await chats.chat_page(info.context, website_id, first, after))

    @strawberry.field
    async def messages(
        self, info: Ctx, chat_id: strawberry.ID, first: int | None = 50, after: str | None = None
    ) -> MessageConnection:
        return MessageConnection.of(await chats.message_page(info.context, chat_id, first, after))

    @strawberry.field
    async def document(self, info: Ctx, id: strawberry.ID) -> Document | None:
        row = await documents.document(info.context, id)
        return Document.from_row(row) if row else None

    @strawberry.field
    async def documents(
        self,
        info: Ctx,
        website_id: strawberry.ID,
        first: int | None = 20,
        after: str | None = None,
        status: DocumentStatus | None = None,
    ) -> DocumentConnection:
        page = await documents.document_page(
            info.context, website_id, first, after, status.value if status else None
        )
        return DocumentConnection.of(page)

    @strawberry.field(
        description=(
            "Answers and tokens of a website's assistant in [from, to), per model (owners)."
        )
    )
    async def usage(
        self,
        info: Ctx,
        website_id: strawberry.ID,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> UsageTotals:
        return UsageTotals.of(await chats.usage(info.context, website_id, from_, to))

    @strawberry.field(description="Hybrid (vector + full-text) search of a website's documents.")
    async def search(
        self, info: Ctx, website_id: strawberry.ID, query: str, limit: int | None = 5
    ) -> list[SearchHit]:
        hits = await documents.run_search(info.context, website_id, query, limit)
        return [SearchHit.of(h) for h in hits]

    @strawberry.field
    async def website_sources(self, info: Ctx, website_id: strawberry.ID) -> list[WebsiteSource]:
        rows = await website_sources.of_website(info.context, website_id)
        return [WebsiteSource.from_row(r) for r in rows]

    @strawberry.field
    async def website_source(self, info: Ctx, id: strawberry.ID) -> WebsiteSource | None:
        row = await website_sources.get(info.context, id)
        return WebsiteSource.from_row(row) if row else None


@strawberry.type
class Mutation(InsightsMutation):
    @strawberry.mutation
    async def create_website(self, info: Ctx, input: CreateWebsiteInput) -> Website:
        return Website.from_row(await websites.create_website(info.context, given(input)))

    @strawberry.mutation
    async def update_website(
        self, info: Ctx, id: strawberry.ID, input: UpdateWebsiteInput
    ) -> Website:
        return Website.from_row(await websites.update_website(info.context, id, given(input)))

    @strawberry.mutation
    async def delete_website(self, info: Ctx, id: strawberry.ID) -> bool:
        return await websites.delete_website(info.context, id)

    @strawberry.mutation(description="Anonymous visitor token for the widget.")
    async def start_session(self, info: Ctx, website_id: strawberry.ID) -> Session:
        new = await websites.start_session(info.context, website_id)
        return Session(
            token=new.token,
            visitor_id=strawberry.ID(str(new.visitor_id)),
            expires_at=new.expires_at,
            website=Website.from_row(new.website),
        )

    @strawberry.mutation
    async def create_chat(
        self, info: Ctx, website_id: strawberry.ID, title: str | None = None
    ) -> Chat:
        return Chat.from_row(await chats.create_chat(info.context, website_id, title))

    @strawberry.mutation(description="Stores a message, no answer.")
    async def add_message(self, info: Ctx, chat_id: strawberry.ID, content: str) -> Message:
        return Message.from_row(await chats.add_message(info.context, chat_id, content))

    @strawberry.mutation
    async def delete_chat(self, info: Ctx, id: strawberry.ID) -> bool:
        return await chats.delete_chat(info.context, id)

    @strawberry.mutation(
        description="GraphQL multipart request spec, sent to the /graphql/upload route."
    )
    async def upload_document(self, info: Ctx, website_id: strawberry.ID, file: Upload) -> Document:
        return Document.from_row(await documents.upload(info.context, website_id, file))

    @strawberry.mutation
    async def add_document_text(
        self, info: Ctx, website_id: strawberry.ID, filename: str, text: str
    ) -> Document:
        row = await documents.add_text(info.context, website_id, filename, text)
        return Document.from_row(row)

    @strawberry.mutation
    async def delete_document(self, info: Ctx, id: strawberry.ID) -> bool:
        return await documents.delete_document(info.context, id)

    @strawberry.mutation
    async def add_website_source(
        self, info: Ctx, website_id: strawberry.ID, input: WebsiteSourceInput
    ) -> WebsiteSource:
        row = await website_sources.add(info.context, website_id, input.new())
        return WebsiteSource.from_row(row)

    @strawberry.mutation
    async def sync_website_source(self, info: Ctx, id: strawberry.ID) -> WebsiteSource:
        return WebsiteSource.from_row(await website_sources.sync(info.context, id))

    @strawberry.mutation
    async def delete_website_source(self, info: Ctx, id: strawberry.ID) -> bool:
        return await website_sources.delete(info.context, id)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "Stores the user message, retrieves context, streams the answer, stores it. "
            "Order: SourcesFound once, TokenDelta*, then exactly one MessageDone or ChatFailed."
        )
    )
    async def chat_stream(
        self, info: Ctx, chat_id: strawberry.ID, message: str
    ) -> AsyncGenerator[ChatEvent, None]:
        state = info.context.state
        async with state.drain.answering():
            with state.metrics.subscriptions.labels("chatStream").track_inprogress():
                async for event in chats.chat_stream(info.context, chat_id, message):
                    yield chat_event(event)

    @strawberry.subscription(
        description="Emits the document on every status change until READY or FAILED."
    )
    async def document_status(
        self, info: Ctx, document_id: strawberry.ID
    ) -> AsyncGenerator[Document, None]:
        with info.context.state.metrics.subscriptions.labels("documentStatus").track_inprogress():
            async for row in documents.status_changes(info.context, document_id):
                yield Document.from_row(row)

    @strawberry.subscription
    async def website_source_status(
        self, info: Ctx, source_id: strawberry.ID
    ) -> AsyncGenerator[WebsiteSource, None]:
        metrics = info.context.state.metrics.subscriptions.labels("websiteSourceStatus")
        with metrics.track_inprogress():
            async for row in website_sources.status_changes(info.context, source_id):
                yield WebsiteSource.from_row(row)
