"""Introspection that clients built on graphql-core 3.2 can read (Python gql 3.x)."""

from __future__ import annotations

from copy import copy

from graphql import DirectiveLocation, GraphQLDirective, GraphQLSchema

# Directive locations that graphql-core 3.3 knows and 3.2 does not. 3.3 publishes
# `@deprecated` on DIRECTIVE_DEFINITION, and 3.2's build_client_schema then refuses the
# whole introspection result ("deprecated locations must be specified as a collection of
# DirectiveLocation enum values"): gql 3's `fetch_schema_from_transport=True` failed.
NEWER_LOCATIONS = frozenset(
    {DirectiveLocation.DIRECTIVE_DEFINITION, DirectiveLocation.FRAGMENT_VARIABLE_DEFINITION}
)


def readable_by_older_clients(schema: GraphQLSchema) -> None:
    """Publish the schema's directives without the locations that only graphql-core 3.3
    knows. askbase deprecates no directive and uses no fragment variables, so nothing it
    serves changes: the built-in directives are still known by name (SDL printing leaves
    them out, as before), and every location an operation or the SDL uses stays."""
    schema.directives = tuple(_without_newer_locations(d) for d in schema.directives)


def _without_newer_locations(directive: GraphQLDirective) -> GraphQLDirective:
    if NEWER_LOCATIONS.isdisjoint(directive.locations):
        return directive
    narrowed = copy(directive)  # the built-in objects are shared by every schema
    narrowed.locations = tuple(at for at in directive.locations if at not in NEWER_LOCATIONS)
    return narrowed
