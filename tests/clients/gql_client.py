"""A Python `gql` client's session with askbase, as its users write it: the schema fetched
by introspection (`fetch_schema_from_transport=True`) and every document validated
against it before it is sent; a query and a mutation over HTTP, then chatStream over
WebSockets (graphql-transport-ws). Runs with gql 3.x (graphql-core 3.2) in a venv of its
own and with gql 4.x (graphql-core 3.3) in the project's, as
tests/web/test_gql_clients.py does:

    python gql_client.py '{"http": ..., "ws": ..., "website": ..., "token": ..., "origin": ...}'

It prints one JSON object: the versions it ran with and what the server answered.
It imports nothing but gql, graphql-core and the standard library.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import gql
import graphql
from gql import Client
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

WEBSITE = "query($id: ID!) { website(id: $id) { id settings { title } } }"
CREATE_CHAT = "mutation($w: ID!) { createChat(websiteId: $w) { id websiteId } }"
STREAM = """
subscription($c: ID!, $m: String!) {
  chatStream(chatId: $c, message: $m) {
    __typename
    ... on SourcesFound { sources { title } }
    ... on MessageDone { message { role content status } }
    ... on ChatFailed { code detail }
  }
}"""
NOT_IN_THE_SCHEMA = "{ noSuchField }"

GQL_MAJOR = int(gql.__version__.split(".")[0])


def request(query: str, variables: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
    """The arguments of execute() and subscribe(): gql 4 takes a GraphQLRequest that
    carries the variables, gql 3 a parsed document and the variables beside it."""
    if GQL_MAJOR >= 4:
        return gql.GraphQLRequest(query, variable_values=variables), {}
    return gql.gql(query), {"variable_values": variables}


async def refused_locally(session: Any) -> str:
    """A document the fetched schema does not allow fails in the client (a GraphQLError
    from its validation), never reaching the server (a TransportQueryError)."""
    document, kwargs = request(NOT_IN_THE_SCHEMA)
    try:
        await session.execute(document, **kwargs)
    except graphql.GraphQLError as error:
        return error.message
    raise AssertionError("the client sent a document that its schema does not allow")


async def main(given: dict[str, str]) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {given['token']}", "origin": given["origin"]}
    http = HTTPXAsyncTransport(url=given["http"], headers=headers)
    async with Client(transport=http, fetch_schema_from_transport=True) as session:
        assert session.client.schema is not None
        document, kwargs = request(WEBSITE, {"id": given["website"]})
        website = await session.execute(document, **kwargs)
        document, kwargs = request(CREATE_CHAT, {"w": given["website"]})
        chat = (await session.execute(document, **kwargs))["createChat"]
        refused = await refused_locally(session)

    ws = WebsocketsTransport(
        url=given["ws"],
        init_payload={"authorization": f"Bearer {given['token']}"},
        headers={"origin": given["origin"]},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    events = []
    async with Client(transport=ws, fetch_schema_from_transport=True) as session:
        subscription = session.client.schema.subscription_type
        document, kwargs = request(STREAM, {"c": chat["id"], "m": "How long do refunds take?"})
        async for result in session.subscribe(document, **kwargs):
            events.append(result["chatStream"])
        ws_refused = await refused_locally(session)

    return {
        "gql": gql.__version__,
        "graphql_core": graphql.__version__,
        "website": website["website"],
        "chat": chat,
        "refused": [refused, ws_refused],
        "subscriptions": sorted(subscription.fields),
        "events": events,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))))
