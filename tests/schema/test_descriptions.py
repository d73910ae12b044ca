"""Every type, field, argument, input field and enum value of the schema is described, so
that codegen output and GraphQL IDEs explain the API; custom scalars name their spec."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    specified_scalar_types,
)

from askbase.schema.build import build_schema as build_askbase_schema


def undescribed(schema: GraphQLSchema) -> Iterator[str]:
    """The coordinates (`Type.field(argument:)`) of everything without a description."""

    def blank(described: object) -> bool:
        return not (getattr(described, "description", None) or "").strip()

    for name, named in sorted(schema.type_map.items()):
        if name.startswith("__") or name in specified_scalar_types:
            continue
        type_: GraphQLNamedType = named
        if blank(type_):
            yield name
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in type_.fields.items():
                if blank(field):
                    yield f"{name}.{field_name}"
                for arg_name, arg in field.args.items():
                    if blank(arg):
                        yield f"{name}.{field_name}({arg_name}:)"
        elif isinstance(type_, GraphQLInputObjectType):
            for field_name, input_field in type_.fields.items():
                if blank(input_field):
                    yield f"{name}.{field_name}"
        elif isinstance(type_, GraphQLEnumType):
            for value_name, value in type_.values.items():
                if blank(value):
                    yield f"{name}.{value_name}"


def test_everything_in_the_schema_is_described() -> None:
    missing = list(undescribed(build_askbase_schema()._schema))
    assert missing == [], "add a description to: " + ", ".join(missing)


def test_the_check_finds_what_is_not_described() -> None:
    sdl = '''
    """A query."""
    type Query { "Described." a(x: Int): E  b: U }
    enum E { ONE "Two." TWO }
    union U = Query
    input I { y: Int }
    scalar S
    '''
    assert sorted(undescribed(build_schema(sdl))) == [
        "E",
        "E.ONE",
        "I",
        "I.y",
        "Query.a(x:)",
        "Query.b",
        "S",
        "U",
    ]


def test_custom_scalars_name_their_specification() -> None:
    schema = build_askbase_schema()._schema
    custom = {
        name: t
        for name, t in schema.type_map.items()
        if isinstance(t, GraphQLScalarType) and name not in specified_scalar_types
    }
    assert custom["DateTime"].specified_by_url == "https://datatracker.ietf.org/doc/html/rfc3339"
    assert custom["JSON"].specified_by_url
    assert [n for n, t in custom.items() if not t.specified_by_url] == []


def test_union_members_are_described_too() -> None:
    union = build_askbase_schema()._schema.type_map["ChatEvent"]
    assert isinstance(union, GraphQLUnionType)
    assert all(member.description for member in union.types)
