"""build_schema(): the schema with its limits, error codes and masking."""

from __future__ import annotations

import asyncio
import weakref
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql.validation import ASTValidationRule, ValidationRule
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.printer import print_schema
from strawberry.schema.schema import validate_document

from askbase.app.web.parsing import parse_acyclic
from askbase.schema.errors import AskbaseSchema, ErrorCodes, OperationMetrics, OperationScope
from askbase.schema.introspection import readable_by_older_clients
from askbase.schema.root import Mutation, Query, Subscription

T = TypeVar("T")


# Documents up to this long are parsed and validated right away (parsing costs ~1 µs a
# character) and, once they validate, cached; longer ones wait for a turn (see Turns)
# and are never cached, so that unique documents from hostile clients cannot fill the
# caches (each cached document is thousands of objects that every full garbage
# collection walks: 512 cached 5 KB documents made each one take ~0.8 s).
SMALL_DOCUMENT = 1024


class Turns:
    """Parsing and validating long documents one at a time per event loop, each in a turn
    of its own: the work of many hostile requests then queues behind one another, instead
    of running back to back ahead of everything else the loop has to do (a health check
    waited 0.2-0.7 s behind twenty of them)."""

    def __init__(self) -> None:
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._turns = weakref.WeakKeyDictionary()

    async def run(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        turn = self._turns.get(loop)
        if turn is None:
            turn = self._turns[loop] = asyncio.Semaphore(1)
        async with turn:
            await asyncio.sleep(0)  # what the loop already has to do goes first
            return work(*args, **kwargs)


class Documents:
    """Parsed documents that validated, by their text: widgets send the same few over
    and over. Only small ones are kept (see SMALL_DOCUMENT)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._kept: OrderedDict[tuple[str, Any], DocumentNode] = OrderedDict()

    def get(self, query: str, options: Any) -> DocumentNode | None:
        key = (query, options.get("max_tokens"))
        document = self._kept.get(key)
        if document is not None:
            self._kept.move_to_end(key)
        return document

    def keep(self, query: str, options: Any, document: DocumentNode) -> None:
        if len(query) <= SMALL_DOCUMENT:
            self._kept[(query, options.get("max_tokens"))] = document
            if len(self._kept) > self.maxsize:
                self._kept.popitem(last=False)


def _stand_in(operation_name: str | None) -> DocumentNode:
    """A document for one that failed to parse, so that Strawberry does not parse it a
    second time on the event loop: a query named as the request names its operation."""
    name = NameNode(value=operation_name) if operation_name else None
    operation = OperationDefinitionNode(
        operation=OperationType.QUERY,
        name=name,
        variable_definitions=(),
        directives=(),
        selection_set=SelectionSetNode(
            selections=(FieldNode(name=NameNode(value="__typename"), arguments=(), directives=()),)
        ),
    )
    return DocumentNode(definitions=(operation,))


class ParseOnce(SchemaExtension):
    """Parses each document once while it is cached (see Documents), a long one in a
    turn of its own (see Turns). The syntax error of a document that does not parse
    stands in for it (with a stand-in document), so that Strawberry reports the error
    without parsing it again."""

    def __init__(self, *, documents: Documents, turns: Turns) -> None:
        self.documents = documents
        self.turns = turns

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        query = context.query
        if query:
            options = context.parse_options
            try:
                document = self.documents.get(query, options)
                if document is None and len(query) <= SMALL_DOCUMENT:
                    document = parse_acyclic(query, **options)
                elif document is None:
                    document = await self.turns.run(parse_acyclic, query, **options)
            except GraphQLError as error:
                context.pre_execution_errors = [error]
                document = _stand_in(context.operation_name)
            context.graphql_document = document
        yield


@dataclass
class _Cost:
    """A selection set with its fragments expanded: how many fields it selects in all, how
    many of those repeat a response name at a level below it, and the response names of
    its own level (a fragment's level merges into the level that spreads it)."""

    fields: int = 0
    nested_repeats: int = 0
    names: Counter[str] = field(default_factory=Counter)

    @property
    def repeats(self) -> int:
        return self.nested_repeats + self.names.total() - len(self.names)


def selection_cost(document: DocumentNode) -> tuple[int, int]:
    """Field selections of a document with its fragments expanded, and how many of them
    repeat a response name already selected at the same level (which validation compares
    pairwise). Counted without recursion and without expanding anything: each selection
    set once, bottom-up, fragments by reference; a fragment cycle counts as empty (it
    fails validation anyway)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    memo: dict[int, _Cost] = {}
    reached: set[str] = set()

    def level(node: SelectionSetNode) -> Iterator[FieldNode | SelectionSetNode]:
        """The fields of one level, inline fragments flattened, and the selection sets of
        the fragments it spreads."""
        pending = list(node.selections)
        while pending:
            selection = pending.pop()
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                pending.extend(selection.selection_set.selections)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    reached.add(selection.name.value)
                    yield fragment.selection_set

    def cost(root: SelectionSetNode) -> _Cost:
        stack: list[tuple[SelectionSetNode, bool]] = [(root, False)]
        entered: set[int] = set()
        while stack:
            node, ready = stack.pop()
            if id(node) in memo:
                continue
            if not ready:
                entered.add(id(node))
                stack.append((node, True))
                for item in level(node):
                    below = item.selection_set if isinstance(item, FieldNode) else item
                    if below is not None and id(below) not in memo and id(below) not in entered:
                        stack.append((below, False))
                continue
            total = _Cost()
            for item in level(node):
                if isinstance(item, FieldNode):
                    total.fields += 1
                    total.names[(item.alias or item.name).value] += 1
                    if item.selection_set is not None:
                        child = memo.get(id(item.selection_set), _Cost())
                        total.fields += child.fields
                        total.nested_repeats += child.repeats
                else:  # a fragment's level joins this one
                    child = memo.get(id(item), _Cost())
                    total.fields += child.fields
                    total.nested_repeats += child.nested_repeats
                    total.names.update(child.names)
            memo[id(node)] = total
        return memo[id(root)]

    fields = repeats = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            found = cost(definition.selection_set)
            fields, repeats = fields + found.fields, repeats + found.repeats
    used = set(reached)
    for name, fragment in fragments.items():
        if name not in used:  # validated all the same
            found = cost(fragment.selection_set)
            fields, repeats = fields + found.fields, repeats + found.repeats
    return fields, repeats


class UploadOnly(ValidationRule):
    """The multipart route serves file uploads and nothing else."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        fields = node.selection_set.selections
        if node.operation != OperationType.MUTATION or not all(
            isinstance(f, FieldNode) and f.name.value == "uploadDocument" for f in fields
        ):
            self.report_error(
                GraphQLError(
                    "This route serves only the uploadDocument mutation; "
                    "send other operations to /graphql.",
                    node,
                )
            )


class BoundedValidation(ValidationCache):
    """Strawberry's validation cache behind a cost check: a document that selects too
    many fields, or repeats response names too often, is refused before validation runs
    (validation compares the fields that share a name pairwise: ~480 of them under one
    alias took a second of the event loop). A long document is validated in a turn of
    its own and not cached; a small one that validates joins the parsed documents."""

    def __init__(
        self,
        *,
        maxsize: int,
        max_selections: int,
        max_duplicates: int,
        documents: Documents,
        turns: Turns,
    ) -> None:
        super().__init__(maxsize=maxsize)
        self.max_selections = max_selections
        self.max_duplicates = max_duplicates
        self.documents = documents
        self.turns = turns

    async def on_validate(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context
        document, query = context.graphql_document, context.query or ""
        if context.pre_execution_errors or document is None:  # it did not parse
            yield
            return
        fields, repeats = selection_cost(document)
        message = None
        if fields > self.max_selections:
            message = (
                f"The document selects {fields} fields once its fragments are expanded; "
                f"at most {self.max_selections} are allowed."
            )
        elif repeats > self.max_duplicates:
            message = (
                f"The document selects {repeats} fields under a response name already "
                f"selected at the same level; at most {self.max_duplicates} are allowed."
            )
        if message is not None:
            context.pre_execution_errors = [GraphQLError(message)]
            yield
            return
        arguments = (context.schema._schema, document, context.validation_rules)
        if len(query) <= SMALL_DOCUMENT:
            errors = self.cached_validate_document(*arguments)
            if not errors:
                self.documents.keep(query, context.parse_options, document)
        else:
            errors = await self.turns.run(validate_document, *arguments)
        context.pre_execution_errors = errors
        yield


def build_schema(
    *,
    max_depth: int = 10,
    max_aliases: int = 15,
    max_tokens: int = 2000,
    max_selections: int = 400,
    max_duplicate_fields: int = 20,
    introspection: bool = True,
    upload_only: bool = False,
    tracing: bool = False,
) -> AskbaseSchema:
    # The rule classes are made once per schema: Strawberry's QueryDepthLimiter and
    # MaxAliasesLimiter make new ones per operation, and the validation cache, keyed by
    # the rules, then never hits (validation was a quarter of chatStream's CPU time).
    rules: list[type[ASTValidationRule]] = [depth_rule(max_depth, None), aliases_rule(max_aliases)]
    if upload_only:
        rules.append(UploadOnly)
    turns, documents = Turns(), Documents(maxsize=512)
    extensions: list[Any] = [
        # Classes and factories: a fresh extension per operation; what they share is
        # made once per schema (the parsed documents, the turns of long documents).
        # Operations leave through these in reverse order: codes set, then counted.
        OperationScope,
        OperationMetrics,
        ErrorCodes,
        partial(AddValidationRules, rules),
        partial(MaxTokensLimiter, max_token_count=max_tokens),
        # Widgets send the same few documents over and over: parse and validate each once.
        partial(ParseOnce, documents=documents, turns=turns),
        partial(
            BoundedValidation,
            maxsize=512,
            max_selections=max_selections,
            max_duplicates=max_duplicate_fields,
            documents=documents,
            turns=turns,
        ),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    if tracing:  # OpenTelemetry spans per operation and resolver (app/tracing.py)
        from askbase.app.observability.tracing import schema_extension

        extensions.append(schema_extension())
    schema = AskbaseSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
    )
    readable_by_older_clients(schema._schema)
    return schema


def export_sdl() -> str:
    return print_schema(build_schema()) + "\n"
