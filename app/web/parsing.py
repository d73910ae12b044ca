"""Parsing GraphQL documents without leaving garbage behind."""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, GraphQLSyntaxError, Lexer, Source, Token
from graphql.language.parser import Parser


def parse_acyclic(query: str, **options: Any) -> DocumentNode:
    """graphql-core's parse, as the spec has it (no empty selection sets: `{}` passed
    parsing and crashed a validation rule), with the lexer's tokens unlinked afterwards.
    They form a doubly linked list, so each parse (failed ones too) left thousands of
    objects in reference cycles that only the garbage collector frees: a flood of large
    documents made its full collections run several times a second."""
    lexer = Lexer(Source(query))
    try:
        try:
            parser = Parser(lexer.source, lexer=lexer, allow_empty_selection_sets=False, **options)
            document: DocumentNode = parser.parse_document()
            return document
        except RecursionError:
            pass
        raise GraphQLSyntaxError(
            lexer.source, lexer.token.start, "Document is nested too deeply. Parsing aborted."
        )
    finally:
        here = lexer.token
        ends: tuple[tuple[Token | None, str], ...] = ((here.next, "next"), (here.prev, "prev"))
        here.next = here.prev = None
        for token, step in ends:
            while token is not None:
                following = getattr(token, step)
                token.next = token.prev = None
                token = following
