"""GraphQL object types, enums and scalars of the public contract, built from database
records. Every type, field, argument and enum value carries a description
(tests/schema/test_descriptions.py)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from typing import Annotated, Any, cast

import asyncpg
import strawberry
from graphql import GraphQLError
from strawberry.file_uploads.scalars import Upload, UploadDefinition
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.types.scalar import ScalarDefinition

from askbase.app.auth.context import Context
from askbase.app.chat import answer
from askbase.app.core.pagination import Page
from askbase.resolvers import chats as chat_resolvers
from askbase.resolvers import documents as document_resolvers
from askbase.resolvers import websites as website_resolvers
from askbase.schema import insights
from askbase.schema.inputs import after_cursor, page_size
from askbase.schema.insights import Feedback

# Scalars ------------------------------------------------------------------------------

RFC_3339 = "https://datatracker.ietf.org/doc/html/rfc3339"
_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))",
    re.ASCII,
)
_DATE_TIME_EXAMPLE = "2026-12-01T09:30:00Z"


def _bad_date_time(value: object, reason: str) -> GraphQLError:
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    return GraphQLError(
        f"DateTime cannot represent {shown}: {reason}.", extensions={"code": "BAD_USER_INPUT"}
    )


def parse_date_time(value: object) -> datetime:
    """An RFC 3339 `date-time` (section 5.6): date, `T`, time with seconds, an optional
    fraction and a time zone offset or `Z`. A bare date, a time without an offset and the
    other ISO 8601 forms (week dates, the basic format) are refused."""
    if not isinstance(value, str):
        raise _bad_date_time(value, "expected a string")
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        raise _bad_date_time(
            value,
            f"expected an RFC 3339 date-time with a time zone offset, like {_DATE_TIME_EXAMPLE}",
        )
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    if not zulu and (int(off_h) > 23 or int(off_m) > 59):
        raise _bad_date_time(value, "the time zone offset is out of range")
    offset = timedelta(0)
    if not zulu:
        offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            micro,
            tzinfo=timezone(offset),
        )
    except ValueError as error:  # month 13, February 30, second 60...
        raise _bad_date_time(value, str(error)) from None


def serialize_date_time(value: datetime) -> str:
    """RFC 3339 with the offset the value carries (UTC for database timestamps)."""
    if value.tzinfo is None:  # never from a timestamptz; UTC by this service's convention
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


DATE_TIME: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description=(
        "A point in time as an RFC 3339 `date-time` string: date, `T`, time with seconds, "
        "an optional fraction and a time zone offset or `Z`, e.g. "
        f"`{_DATE_TIME_EXAMPLE}` or `2026-12-01T10:30:00.250+01:00`. Input without an "
        "offset (a bare date, a local time) is refused with BAD_USER_INPUT. The server "
        "sends UTC (`+00:00`)."
    ),
    specified_by_url=RFC_3339,
    serialize=serialize_date_time,
    parse_value=parse_date_time,
)
UPLOAD: ScalarDefinition = dataclasses.replace(
    UploadDefinition,
    description=(
        "A file sent as a part of a multipart request (the GraphQL multipart request spec), "
        "to the /graphql/upload route."
    ),
    specified_by_url="https://github.com/jaydenseric/graphql-multipart-request-spec",
)
# The schema's own definitions of Python types (AskbaseSchema passes them to Strawberry).
SCALARS: Mapping[object, ScalarDefinition] = {datetime: DATE_TIME, Upload: UPLOAD}

# Enums --------------------------------------------------------------------------------
# Values carry descriptions (strawberry.enum_value), which mypy takes for the type of
# `.value`: `str(member.value)` is the database spelling.


@strawberry.enum(description="Who wrote a message.")
class Role(Enum):
    USER = strawberry.enum_value("user", description="The person chatting: visitor or owner.")
    ASSISTANT = strawberry.enum_value("assistant", description="The website's assistant.")
    SYSTEM = strawberry.enum_value("system", description="Instructions to the model.")
    OWNER = strawberry.enum_value(
        "owner", description="A person of the website's team, replying in the chat (replyToChat)."
    )


@strawberry.enum(description="Whether a person of the website's team handles a chat.")
class HandoffState(Enum):
    NONE = strawberry.enum_value("none", description="The assistant answers.")
    REQUESTED = strawberry.enum_value(
        "requested",
        description="A person was asked for (requestHuman); the assistant answers meanwhile.",
    )
    TAKEN_OVER = strawberry.enum_value(
        "taken_over",
        description=(
            "The owner took the chat over (takeOverChat): the assistant stays silent until "
            "releaseChat, and chatStream ends with ChatFailed code HUMAN_HANDLING."
        ),
    )


@strawberry.enum(description="How far a message got.")
class MessageStatus(Enum):
    COMPLETE = strawberry.enum_value("complete", description="Written in full.")
    STREAMING = strawberry.enum_value(
        "streaming", description="An answer that is still being written (chatStream)."
    )
    INCOMPLETE = strawberry.enum_value(
        "incomplete",
        description="An answer cut short after its first token (model failure, client gone).",
    )
    FAILED = strawberry.enum_value(
        "failed", description="An answer that failed before its first token."
    )


@strawberry.enum(description="Where a document is in ingestion.")
class DocumentStatus(Enum):
    PENDING = strawberry.enum_value("pending", description="Stored, waiting for a worker.")
    PROCESSING = strawberry.enum_value(
        "processing", description="Being parsed, chunked and embedded."
    )
    READY = strawberry.enum_value("ready", description="Searchable; answers may cite it.")
    FAILED = strawberry.enum_value(
        "failed", description="Ingestion failed; `Document.error` says why."
    )


@strawberry.enum(
    description=(
        "Why an answer failed (`ChatFailed.errorCode`): the error codes of the contract "
        "that an answer can end with."
    )
)
class ChatErrorCode(Enum):
    UNAUTHENTICATED = strawberry.enum_value(
        "UNAUTHENTICATED",
        description=(
            "The caller's token expired, or its website was deleted, while the answer streamed."
        ),
    )
    FORBIDDEN = strawberry.enum_value(
        "FORBIDDEN",
        description="The visitor's origin was removed from `allowedOrigins` mid-answer.",
    )
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="The chat was deleted while the answer streamed."
    )
    BAD_USER_INPUT = strawberry.enum_value(
        "BAD_USER_INPUT",
        description=(
            "Input was refused. The question is checked before the subscription starts "
            "(a GraphQL error then), so an answer rarely ends with it."
        ),
    )
    RATE_LIMITED = strawberry.enum_value(
        "RATE_LIMITED", description="The model provider is rate limiting; ask again later."
    )
    PAYLOAD_TOO_LARGE = strawberry.enum_value(
        "PAYLOAD_TOO_LARGE", description="Something the answer needed was too large."
    )
    UNAVAILABLE = strawberry.enum_value(
        "UNAVAILABLE",
        description=(
            "The model is unreachable, or the service is busy; ask again (after "
            "`retryAfter` seconds when it is set)."
        ),
    )
    INTERNAL = strawberry.enum_value(
        "INTERNAL",
        description="An unexpected failure; the server logged it with the request id.",
    )
    HUMAN_HANDLING = strawberry.enum_value(
        "HUMAN_HANDLING",
        description=(
            "Not a failure: the chat is taken over by the website's team, so the question "
            "was stored and a person will reply (chatEvents delivers it)."
        ),
    )

    @classmethod
    def of(cls, code: str) -> ChatErrorCode:
        try:
            return cls(code)
        except ValueError:
            return cls.INTERNAL


# Objects ------------------------------------------------------------------------------


@strawberry.type(description="Where a page of a connection ends, and whether more follow.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when more items follow; ask for them with `after: endCursor`."
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item of this page; null when the page is empty."
    )

    @classmethod
    def of(cls, page: Page[Any]) -> PageInfo:
        return cls(has_next_page=page.has_next, end_cursor=page.end_cursor)


OWNER_ONLY = " Owner-only: null for visitors."


@strawberry.type(
    description=(
        "How a website's assistant looks and behaves. Visitors see the public part; the "
        "owner-only fields are null for them."
    )
)
class WebsiteSettings:
    title: str = strawberry.field(
        description="Shown in the widget's header; the website's name unless set."
    )
    welcome_message: str | None = strawberry.field(
        description="The widget's first message; null: none."
    )
    suggested_questions: list[str] = strawberry.field(
        description="Questions the widget offers to ask (at most 10)."
    )
    theme: JSON = strawberry.field(
        description=(
            "Widget styling: an object of strings, numbers and booleans (e.g. "
            '`{"primary": "#0a7"}`); `{}` when not set.'
        )
    )
    system_prompt: str | None = strawberry.field(
        description="Instructions for the model; null: the built-in prompt." + OWNER_ONLY
    )
    model: str | None = strawberry.field(
        description="The chat model of answers; null: the operator's LLM_MODEL." + OWNER_ONLY
    )
    temperature: float | None = strawberry.field(
        description="Sampling temperature, 0..2; null: the model's default." + OWNER_ONLY
    )
    allowed_origins: list[str] | None = strawberry.field(
        description=(
            "Origins (like https://shop.example, or `*`) whose pages may start visitor "
            "sessions." + OWNER_ONLY
        )
    )
    trusted_documents_only: bool = strawberry.field(
        description=(
            "Visitors may run only trusted documents (the widget's operations and the "
            "operator's TRUSTED_DOCUMENTS); anything else is refused with FORBIDDEN. "
            "Default: false."
        )
    )
    time_zone: str = strawberry.field(
        description=("The IANA time zone in which `activity` buckets hours and days; default UTC.")
    )
    retention_days: int | None = strawberry.field(
        description=(
            "Chats are deleted, with their messages and ratings, this many days after their "
            "last activity (a scheduled job); null: kept until deleted (the default)."
        )
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
            trusted_documents_only=bool(public.get("trustedDocumentsOnly", False)),
            time_zone=str(public.get("timeZone") or "UTC"),
            retention_days=public.get("retentionDays"),
        )


@strawberry.type(
    description="A website (tenant): its owner's documents answer its visitors' questions."
)
class Website:
    id: strawberry.ID = strawberry.field(description="The website's id.")
    domain: str = strawberry.field(description="Host name, lower case, like docs.example.com.")
    name: str = strawberry.field(description="The owner's name for it; the domain unless set.")
    settings: WebsiteSettings = strawberry.field(
        description="The assistant's settings; visitors see the public part only."
    )
    created_at: datetime = strawberry.field(description="When it was created.")

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Website:
        return cls(
            id=strawberry.ID(str(row["id"])),
            domain=row["domain"],
            name=row["name"],
            settings=WebsiteSettings.from_row(row),
            created_at=row["created_at"],
        )

    @strawberry.field(
        description="The website's documents, newest first. Owner-only (FORBIDDEN for visitors)."
    )
    async def documents(
        self,
        info: Info[Context, None],
        first: Annotated[int | None, page_size(20)] = 20,
        after: Annotated[str | None, after_cursor()] = None,
        status: Annotated[
            DocumentStatus | None,
            strawberry.argument(description="Only documents in this status; null: all."),
        ] = None,
    ) -> DocumentConnection:
        page = await document_resolvers.document_page(
            info.context, self.id, first, after, str(status.value) if status else None
        )
        return DocumentConnection.of(page)

    @strawberry.field(
        description=(
            "The website's chats (of all visitors), newest first. Owner-only (FORBIDDEN for "
            "visitors)."
        )
    )
    async def chats(
        self,
        info: Info[Context, None],
        first: Annotated[int | None, page_size(20)] = 20,
        after: Annotated[str | None, after_cursor()] = None,
    ) -> ChatConnection:
        page = await website_resolvers.website_chats(info.context, self.id, first, after)
        return ChatConnection.of(page)


@strawberry.type(description="A visitor session of the widget (startSession).")
class Session:
    token: str = strawberry.field(
        description=(
            "Visitor token: send it as `Authorization: Bearer <token>` (or in the WebSocket "
            "`connection_init` payload) from an allowed origin."
        )
    )
    visitor_id: strawberry.ID = strawberry.field(
        description="The visitor's id; their chats are theirs alone."
    )
    expires_at: datetime = strawberry.field(
        description="When the token expires; start a new session after that."
    )
    website: Website = strawberry.field(
        description="The website the session belongs to (its public part)."
    )


@strawberry.type(description="A passage an answer is grounded in (a citation).")
class Source:
    document_id: strawberry.ID = strawberry.field(description="The document it comes from.")
    chunk_id: strawberry.ID = strawberry.field(description="The passage (chunk) itself.")
    title: str = strawberry.field(description="The document's title or file name.")
    snippet: str = strawberry.field(description="A short excerpt of the passage.")
    score: float = strawberry.field(
        description="Relevance to the question (fused rank score; higher is better)."
    )
    url: str | None = strawberry.field(
        default=None,
        description=(
            "Citation link for a crawled page: its URL, with a #anchor when known; null for "
            "uploaded documents."
        ),
    )

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


@strawberry.type(description="Tokens an answer used, as the model reported them.")
class Usage:
    model: str = strawberry.field(description="The model that wrote the answer.")
    prompt_tokens: int = strawberry.field(description="Tokens of the prompt.")
    completion_tokens: int = strawberry.field(description="Tokens of the answer.")
    total_tokens: int = strawberry.field(description="Prompt and answer tokens together.")

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


@strawberry.type(description="A message of a chat: a question or an answer.")
class Message:
    id: strawberry.ID = strawberry.field(description="The message's id.")
    chat_id: strawberry.ID = strawberry.field(description="The chat it belongs to.")
    role: Role = strawberry.field(description="Who wrote it.")
    content: str = strawberry.field(
        description="Its text (for an answer: what was streamed, so far or in full)."
    )
    status: MessageStatus = strawberry.field(description="How far it got.")
    sources: list[Source] = strawberry.field(
        description="Assistant messages: the passages the answer cites; empty otherwise."
    )
    usage: Usage | None = strawberry.field(
        description="Assistant messages: the tokens the model used; null when not reported."
    )
    created_at: datetime = strawberry.field(description="When it was stored.")
    confidence: float | None = strawberry.field(
        description=(
            "Assistant messages: how well the sources supported the answer, 0..1; null otherwise."
        )
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

    @strawberry.field(
        description="The rating of an assistant message, when it has one; null otherwise."
    )
    async def feedback(self, info: Info[Context, None]) -> Feedback | None:
        return await insights.message_feedback(info, self.id)


@strawberry.type(description="A page of messages, oldest first.")
class MessageConnection:
    nodes: list[Message] = strawberry.field(description="The messages of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")

    @classmethod
    def of(cls, page: Page[asyncpg.Record]) -> MessageConnection:
        return cls(nodes=[Message.from_row(r) for r in page.items], page_info=PageInfo.of(page))


@strawberry.type(
    description="A conversation with a website's assistant: a visitor's own, or the owner's."
)
class Chat:
    id: strawberry.ID = strawberry.field(description="The chat's id.")
    website_id: strawberry.ID = strawberry.field(description="The website it belongs to.")
    visitor_id: strawberry.ID | None = strawberry.field(
        description=(
            "The visitor who started it (startSession's `visitorId`, what deleteVisitorData "
            "takes); null for the owner's own chats."
        )
    )
    title: str | None = strawberry.field(description="Its title, when one was given.")
    created_at: datetime = strawberry.field(description="When it was started.")
    updated_at: datetime = strawberry.field(description="When a message was last added.")
    handoff: HandoffState = strawberry.field(
        default=HandoffState.NONE,
        description="Whether a person was asked for, or handles the chat now.",
    )
    handoff_note: str | None = strawberry.field(
        default=None, description="What the person was asked for with (requestHuman's note)."
    )
    handoff_requested_at: datetime | None = strawberry.field(
        default=None, description="When a person was asked for; null when none is pending."
    )
    taken_over_at: datetime | None = strawberry.field(
        default=None, description="When the owner took the chat over; null when not."
    )

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Chat:
        return cls(
            id=strawberry.ID(str(row["id"])),
            website_id=strawberry.ID(str(row["website_id"])),
            visitor_id=strawberry.ID(str(row["visitor_id"])) if row.get("visitor_id") else None,
            title=row["title"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            handoff=HandoffState(row.get("handoff") or "none"),
            handoff_note=row.get("handoff_note"),
            handoff_requested_at=row.get("handoff_requested_at"),
            taken_over_at=row.get("taken_over_at"),
        )

    @strawberry.field(description="The chat's messages, oldest first.")
    async def messages(
        self,
        info: Info[Context, None],
        first: Annotated[int | None, page_size(50)] = 50,
        after: Annotated[str | None, after_cursor()] = None,
    ) -> MessageConnection:
        page = await chat_resolvers.chat_messages(info.context, self.id, first, after)
        return MessageConnection.of(page)


@strawberry.type(description="A page of chats, newest first.")
class ChatConnection:
    nodes: list[Chat] = strawberry.field(description="The chats of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")

    @classmethod
    def of(cls, page: Page[asyncpg.Record]) -> ChatConnection:
        return cls(nodes=[Chat.from_row(r) for r in page.items], page_info=PageInfo.of(page))


@strawberry.type(
    description=(
        "A file or text the website's answers draw on: uploaded, added as text, or stored "
        "by a website source."
    )
)
class Document:
    id: strawberry.ID = strawberry.field(description="The document's id.")
    website_id: strawberry.ID = strawberry.field(description="The website it belongs to.")
    filename: str = strawberry.field(description="File name (or the page's name).")
    content_type: str = strawberry.field(
        description="MIME type of the original, like application/pdf."
    )
    size_bytes: int = strawberry.field(description="Size of the original file in bytes.")
    status: DocumentStatus = strawberry.field(description="Where it is in ingestion.")
    error: str | None = strawberry.field(
        description="Why ingestion failed, readable; null unless FAILED."
    )
    chunk_count: int = strawberry.field(description="Passages (chunks) stored for search.")
    created_at: datetime = strawberry.field(description="When it was stored.")
    storage: strawberry.Private[str]
    source_url: str | None = strawberry.field(
        default=None,
        description="The page a crawled document came from; null for uploads and texts.",
    )

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

    @strawberry.field(
        description="Short-lived signed URL of the original file. Owner-only (FORBIDDEN)."
    )
    async def download_url(self, info: Info[Context, None]) -> str:
        return await document_resolvers.download_url(
            info.context, self.id, self.website_id, self.filename, self.storage
        )


@strawberry.type(description="A page of documents, newest first.")
class DocumentConnection:
    nodes: list[Document] = strawberry.field(description="The documents of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")

    @classmethod
    def of(cls, page: Page[asyncpg.Record]) -> DocumentConnection:
        return cls(nodes=[Document.from_row(r) for r in page.items], page_info=PageInfo.of(page))


@strawberry.type(description="A passage that matched a search, best first.")
class SearchHit:
    document_id: strawberry.ID = strawberry.field(description="The document it comes from.")
    chunk_id: strawberry.ID = strawberry.field(description="The passage (chunk) itself.")
    title: str = strawberry.field(description="The document's title or file name.")
    snippet: str = strawberry.field(description="A short excerpt around the match.")
    score: float = strawberry.field(
        description="Relevance (fused rank of vector and full-text search; higher is better)."
    )
    url: str | None = strawberry.field(
        default=None,
        description="The page's URL (with a #anchor when known) for crawled documents.",
    )

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


@strawberry.type(description="Whether the service is up.")
class Health:
    ok: bool = strawberry.field(description="The process answers.")
    database: bool = strawberry.field(description="The database answered within 2 s.")
    version: str = strawberry.field(description="The askbase version that answers.")


@strawberry.type(description="The next piece of an answer's text (chatStream).")
class TokenDelta:
    message_id: strawberry.ID = strawberry.field(description="The answer being written.")
    text: str = strawberry.field(description="Text to append to what came before.")


@strawberry.type(description="The passages an answer will be grounded in (chatStream, first).")
class SourcesFound:
    message_id: strawberry.ID = strawberry.field(description="The answer being written.")
    sources: list[Source] = strawberry.field(
        description="The passages found; empty when nothing relevant was found."
    )


@strawberry.type(description="The answer, stored in full (chatStream, last).")
class MessageDone:
    message: Message = strawberry.field(description="The stored assistant message.")


@strawberry.type(
    description=(
        "The answer failed (chatStream, last). What was streamed before it is kept as an "
        "INCOMPLETE message."
    )
)
class ChatFailed:
    message_id: strawberry.ID | None = strawberry.field(
        description="The answer's message; null when it failed before one was stored."
    )
    code: str = strawberry.field(
        description="The error code as a string; the same value as `errorCode`."
    )
    error_code: ChatErrorCode = strawberry.field(
        description="Why the answer failed, as an enum (codegen-friendly `code`)."
    )
    message: str = strawberry.field(
        description=(
            "The same text as `detail`. Clients that also select MessageDone.message must "
            "alias this one."
        ),
        deprecation_reason="Use `detail`: same text, no clash with MessageDone.message.",
    )
    detail: str = strawberry.field(description="What went wrong, readable.")
    retry_after: int | None = strawberry.field(
        default=None,
        description="Seconds after which asking again may succeed (UNAVAILABLE when busy).",
    )


ChatEvent = Annotated[
    SourcesFound | TokenDelta | MessageDone | ChatFailed,
    strawberry.union(
        "ChatEvent",
        description=(
            "An event of chatStream: SourcesFound once, TokenDelta any number of times, then "
            "exactly one MessageDone or ChatFailed."
        ),
    ),
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
        error_code=ChatErrorCode.of(event.code),
        message=event.message,
        detail=event.message,
        retry_after=event.retry_after,
    )


@strawberry.type(description="Answers and tokens of one model.")
class ModelUsage:
    model: str = strawberry.field(description="The model's name; empty when not reported.")
    answers: int = strawberry.field(description="Answers it wrote.")
    prompt_tokens: int = strawberry.field(description="Tokens of their prompts.")
    completion_tokens: int = strawberry.field(description="Tokens of the answers.")
    total_tokens: int = strawberry.field(description="Prompt and answer tokens together.")


@strawberry.type(description="A website's answers and tokens over a period.")
class UsageTotals:
    answers: int = strawberry.field(description="Answers of all models.")
    prompt_tokens: int = strawberry.field(description="Tokens of all prompts.")
    completion_tokens: int = strawberry.field(description="Tokens of all answers.")
    total_tokens: int = strawberry.field(description="Prompt and answer tokens together.")
    by_model: list[ModelUsage] = strawberry.field(description="The same, per model.")

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
