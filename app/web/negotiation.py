"""Which media type answers a GraphQL request over HTTP, by the rules of HTTP (RFC 9110
§12.5.1): the most specific media range that matches decides an offer's quality, `q=0`
means "never", a higher q wins, and between equal q the type the client listed first.

Queries and mutations are answered as JSON (`application/graphql-response+json` or
`application/json`) whenever the client accepts JSON at all: they have one result, so a
stream would only make clients parse it harder (urql lists `text/event-stream` in its
default `Accept`). A subscription needs a stream: server-sent events (graphql-sse's
distinct connections mode) or `multipart/mixed; subscriptionSpec=1.0` (Apollo Client's
HTTP subscriptions). With nothing acceptable, the answer is 406, code BAD_USER_INPUT.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from graphql import GraphQLError, OperationDefinitionNode, OperationType

from askbase.app.web.parsing import parse_acyclic

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
SSE = "text/event-stream"
MULTIPART = "multipart/mixed"

# Documents longer than this are not parsed to tell their operation type: they are taken
# for a subscription only when the word appears in them (parsing waits its turn in the
# schema, see schema/build.py).
_PARSE_UP_TO = 8192


@dataclass(frozen=True, slots=True)
class MediaRange:
    kind: str  # "type/subtype", wildcards as sent
    params: tuple[tuple[str, str], ...]
    q: float
    index: int

    def specificity(self, offer: str) -> int | None:
        """How specifically this range names `offer` (3: exactly, 1: `type/*`, 0: `*/*`),
        None when it does not match it."""
        if self.kind == offer:
            return 3
        main, _, sub = self.kind.partition("/")
        if sub == "*" and offer.startswith(main + "/"):
            return 1
        if self.kind in ("*/*", "*"):
            return 0
        return None


def parse_accept(header: str) -> list[MediaRange]:
    ranges = []
    for index, part in enumerate(header.split(",")):
        kind, *rest = (piece.strip() for piece in part.split(";"))
        if not kind:
            continue
        q, params = 1.0, []
        for param in rest:
            name, _, value = param.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0  # a q that is not a number accepts nothing
            elif name:
                params.append((name, value))
        ranges.append(MediaRange(kind.lower(), tuple(params), q, index))
    return ranges


def _multipart_subscriptions(found: MediaRange) -> bool:
    params = dict(found.params)
    return params.get("subscriptionspec", "").startswith("1.0") and params.get(
        "boundary", "graphql"
    ) in ("graphql", "-")


def _score(ranges: list[MediaRange], offer: str) -> tuple[float, int, int] | None:
    """(q, specificity, -position) of the most specific range matching `offer`; None when
    none matches or it says q=0."""
    best: tuple[int, MediaRange] | None = None
    for found in ranges:
        specificity = found.specificity(offer)
        if specificity is None:
            continue
        if offer == MULTIPART and not _multipart_subscriptions(found):
            continue  # only Apollo's multipart subscription protocol is spoken here
        if best is None or specificity > best[0]:
            best = (specificity, found)
    if best is None or best[1].q <= 0:
        return None
    specificity, found = best
    return found.q, specificity, -found.index


def choose(ranges: list[MediaRange], offers: tuple[str, ...]) -> str | None:
    """The offer the client prefers; on a full tie, the first offer."""
    scored = [
        (score, -n, offer) for n, offer in enumerate(offers) if (score := _score(ranges, offer))
    ]
    return max(scored)[2] if scored else None


@dataclass(frozen=True, slots=True)
class Choice:
    media_type: str | None  # None: 406
    stream: bool  # answered as a stream (SSE or multipart)


def negotiate(
    accept: str | None, query: str | None, operation_name: str | None, *, streams: tuple[str, ...]
) -> Choice:
    """The answer's media type for a request. `streams` are the stream types this route
    serves (none on the upload route). A missing or empty Accept means JSON, as the
    GraphQL-over-HTTP spec asks of servers for legacy clients."""
    if not accept or not accept.strip():
        return Choice(JSON, stream=False)
    ranges = parse_accept(accept)
    as_json = choose(ranges, (JSON, GRAPHQL_RESPONSE))
    as_stream = choose(ranges, streams) if streams else None
    if as_stream is None:
        return Choice(as_json, stream=False)
    if as_json is None or is_subscription(query, operation_name):
        return Choice(as_stream, stream=True)
    return Choice(as_json, stream=False)


def is_subscription(query: str | None, operation_name: str | None) -> bool:
    if not query:
        return False
    if len(query) > _PARSE_UP_TO:
        return "subscription" in query
    return _operation_type(query, operation_name) == OperationType.SUBSCRIPTION


@lru_cache(maxsize=256)
def _operation_type(query: str, operation_name: str | None) -> OperationType | None:
    """The type of the operation a request runs; None when the document does not parse or
    does not name it unambiguously (execution then reports the error as JSON)."""
    try:
        document = parse_acyclic(query, no_location=True)
    except (GraphQLError, RecursionError):
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    return operations[0].operation if len(operations) == 1 else None
