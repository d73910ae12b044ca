"""GraphQL object types and enums of the public contract, built from database records."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, cast

import asyncpg
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from askbase.app.auth.context import Context
from askbase.app.chat import answer
from askbase.app.core.pagination import Page
from askbase.resolvers import chats as chat_resolvers
from askbase.resolvers import documents as document_resolvers
from askbase.resolvers import websites as website_resolvers
from askbase.schema import insights
from askbase.schema.insights import Feedback


@strawberry.enum
class Role(Enum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


@strawberry.enum
class MessageStatus(Enum):
    COMPLETE = "complete"
    STREAMING = "streaming"
    INCOMPLETE = "incomplete"
    FAILED = "failed"


@strawberry.enum
class DocumentStatus(Enum):
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def of(cls, page: Page[Any]) -> PageInfo:
        return cls(has_next_page=page.has_next, end_cursor=page.end_cursor)


@strawberry.type
class WebsiteSettings:
    title: str
    welcome_message: str | None
    suggested_questions: list[str]
    theme: JSON
    system_prompt: str | None = strawberry.field(description="Owner-only; null for visitors.")
    model: str | None = strawberry.field(description="Owner-only; null for visitors.")
    temperature: float | None = strawberry.field(description="Owner-only; null for visitors.")
    allowed_origins: list[str] | None = strawberry.field(
        description="Owner-only; null for visitors."
    )

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> WebsiteSettings:
        public: dict[str, Any] = row["settings"] or {}
        owner = "owner_id" in row
        return cls(
            title=public.get("title") or row["name"],
            welcome_message=public.get("welcomeMessage"),
            suggested_questions=list(public.get("suggestedQuestions") or []),
            theme=cast(JSON, public.get("theme") or {}),
            system_prompt=row["system_prompt"] if owner else None,
            model=row["model"] if owner else None,
            temperature=row["temperature"] if owner else None,
            allowed_origins=list(row["allowed_origins"]) if owner else None,
        )


@strawberry.type
class Website:
    id: strawberry.ID
    domain: str
    name: str
    settings: WebsiteSettings
    created_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Website:
        return cls(
            id=strawberry.ID(str(row["id"])),
            domain=row["domain"],
            name=row["name"],
            settings=WebsiteSettings.from_row(row),
            created_at=row["created_at"],
        )

    @strawberry.field(description="Owner-only (FORBIDDEN for visitors).")
    async def documents(
        self,
        info: Info[Context, None],
        first: int | None = 20,
        after: str | None = None,
        status: DocumentStatus | None = None,
    ) -> DocumentConnection:
        page = await document_resolvers.document_page(
            info.context, self.id, first, after, status.value if status else None
        )
        return DocumentConnection.of(page)

    @strawberry.field(description="Owner-only (FORBIDDEN for visitors).")
    async def chats(
        self, info: Info[Context, None], first: int | None = 20, after: str | None = None
    ) -> ChatConnection:
        page = await website_resolvers.website_chats(info.context, self.id, first, after)
        return ChatConnection.of(page)


@strawberry.type
class Session:
    token: str
    visitor_id: strawberry.ID
    expires_at: datetime
    website: Website


@strawberry.type
class Source:
    document_id: strawberry.ID
    chunk_id: strawberry.ID
    title: str
    snippet: str
    score: float
    url: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Source:
        return cls(
            document_id=strawberry.ID(str(data["documentId"])),
            chunk_id=strawberry.ID(str(data["chunkId"])),
            title=str(data["title"]),
            snippet=str(data["snippet"]),
            score=float(data["score"]),
            url=data.get("url"),
        )


@strawberry.type
class Usage:
    model: str
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Usage | None:
        if not data:
            return None
        return cls(
            model=str(data.get("model", "")),
            prompt_tokens=int(data.get("promptTokens", 0)),
            completion_tokens=int(data.get("completionTokens", 0)),
            total_tokens=int(data.get("totalTokens", 0)),
        )


@strawberry.type
class Message:
    id: strawberry.ID
    chat_id: strawberry.ID
    role: Role
    content: str
    status: MessageStatus
    sources: list[Source]
    usage: Usage | None
    created_at: datetime
    confidence: float | None = strawberry.field(
        description="Assistant messages: how well the sources supported the answer, 0..1."
    )

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Message:
        return cls(
            id=strawberry.ID(str(row["id"])),
            chat_id=strawberry.ID(str(row["chat_id"])),
            role=Role(row["role"]),
            content=row["content"],
            status=MessageStatus(row["status"]),
            sources=[Source.from_json(s) for s in row["sources"] or []],
            usage=Usage.from_json(row["usage"]),
            created_at=row["created_at"],
            confidence=row.get("confidence"),
        )

    @strawberry.field(description="The rating of an assistant message, when it has one.")
    async def feedback(self, info: Info[Context, None]) -> Feedback | None:
        return await insights.message_feedback(info, self.id)


@strawberry.type
class MessageConnection:
    nodes: list[Message]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[asyncpg.Record]) -> MessageConnection:
        return cls(nodes=[Message.from_row(r) for r in page.items], page_info=PageInfo.of(page))


@strawberry.type
class Chat:
    id: strawberry.ID
    website_id: strawberry.ID
    title: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Chat:
        return cls(
            id=strawberry.ID(str(row["id"])),
            website_id=strawberry.ID(str(row["website_id"])),
            title=row["title"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    @strawberry.field
    async def messages(
        self, info: Info[Context, None], first: int | None = 50, after: str | None = None
    ) -> MessageConnection:
        page = await chat_resolvers.chat_messages(info.context, self.id, first, after)
        return MessageConnection.of(page)


@strawberry.type
class ChatConnection:
    nodes: list[Chat]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[asyncpg.Record]) -> ChatConnection:
        return cls(nodes=[Chat.from_row(r) for r in page.items], page_info=PageInfo.of(page))


@strawberry.type
class Document:
    id: strawberry.ID
    website_id: strawberry.ID
    filename: str
    content_type: str
    size_bytes: int
    status: DocumentStatus
    error: str | None
    chunk_count: int
    created_at: datetime
    storage: strawberry.Private[str]
    source_url: str | None = None

    @classmethod
    def from_row(cls, row: asyncpg.Record | Mapping[str, Any]) -> Document:
        return cls(
            id=strawberry.ID(str(row["id"])),
            website_id=strawberry.ID(str(row["website_id"])),
            filename=row["filename"],
            content_type=row["content_type"],
            size_bytes=row["size_bytes"],
            status=DocumentStatus(row["status"]),
            error=row["error"],
            chunk_count=row["chunk_count"],
            created_at=row["created_at"],
            storage=row["storage"],
            source_url=row.get("source_url"),
        )

    @strawberry.field(description="Short-lived signed URL of the original file.")
    async def download_url(self, info: Info[Context, None]) -> str:
        return await document_resolvers.download_url(
            info.context, self.id, self.website_id, self.filename, self.storage
        )


@strawberry.type
class DocumentConnection:
    nodes: list[Document]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[asyncpg.Record]) -> DocumentConnection:
        return cls(nodes=[Document.from_row(r) for r in page.items], page_info=PageInfo.of(page))


@strawberry.type
class SearchHit:
    document_id: strawberry.ID
    chunk_id: strawberry.ID
    title: str
    snippet: str
    score: float
    url: str | None = None

    @classmethod
    def of(cls, hit: Any) -> SearchHit:
        return cls(
            document_id=strawberry.ID(str(hit.document_id)),
            chunk_id=strawberry.ID(str(hit.chunk_id)),
            title=hit.title,
            snippet=hit.snippet,
            score=hit.score,
            url=hit.url,
        )


@strawberry.type
class Health:
    ok: bool
    database: bool
    version: str


@strawberry.type
class TokenDelta:
    message_id: strawberry.ID
    text: str


@strawberry.type
class SourcesFound:
    message_id: strawberry.ID
    sources: list[Source]


@strawberry.type
class MessageDone:
    message: Message


@strawberry.type
class ChatFailed:
    message_id: strawberry.ID | None
    code: str
    message: str = strawberry.field(
        deprecation_reason="Use `detail`: same text, no clash with MessageDone.message."
    )
    detail: str
    retry_after: int | None = strawberry.field(
        default=None,
        description="Seconds after which asking again may succeed (UNAVAILABLE when busy).",
    )


ChatEvent = Annotated[
    SourcesFound | TokenDelta | MessageDone | ChatFailed, strawberry.union("ChatEvent")
]


def chat_event(event: answer.Event) -> SourcesFound | TokenDelta | MessageDone | ChatFailed:
    if isinstance(event, answer.TokenEvent):
        return TokenDelta(message_id=strawberry.ID(str(event.message_id)), text=event.text)
    if isinstance(event, answer.SourcesEvent):
        return SourcesFound(
            message_id=strawberry.ID(str(event.message_id)),
            sources=[Source.from_json(answer.source_json(h)) for h in event.hits],
        )
    if isinstance(event, answer.DoneEvent):
        return MessageDone(message=Message.from_row(event.message))
    return ChatFailed(
        message_id=strawberry.ID(str(event.message_id)) if event.message_id else None,
        code=event.code,
        message=event.message,
        detail=event.message,
        retry_after=event.retry_after,
    )


@strawberry.type(description="Answers and tokens of one model.")
class ModelUsage:
    model: str
    answers: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@strawberry.type(description="A website's answers and tokens over a period.")
class UsageTotals:
    answers: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    by_model: list[ModelUsage]

    @classmethod
    def of(cls, rows: list[asyncpg.Record]) -> UsageTotals:
        models = [
            ModelUsage(
                model=r["model"] or "",
                answers=r["answers"],
                prompt_tokens=r["prompt_tokens"],
                completion_tokens=r["completion_tokens"],
                total_tokens=r["prompt_tokens"] + r["completion_tokens"],
            )
            for r in rows
        ]
        return cls(
            answers=sum(m.answers for m in models),
            prompt_tokens=sum(m.prompt_tokens for m in models),
            completion_tokens=sum(m.completion_tokens for m in models),
            total_tokens=sum(m.total_tokens for m in models),
            by_model=models,
        )
