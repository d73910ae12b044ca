"""Unexpected errors are masked for clients and logged with the request id; request ids
travel in the X-Request-ID header and in every error."""

from __future__ import annotations

import strawberry
from structlog.testing import capture_logs

from askbase.app.core.errors import NotFound
from askbase.app.observability.logging import request_id_var
from askbase.schema.errors import AskbaseSchema, ErrorCodes
from tests.conftest import Api, owner_token


@strawberry.type
class _Query:
    @strawberry.field
    def broken(self) -> str:
        raise RuntimeError("password=hunter2 leaked in a message")

    @strawberry.field
    def missing(self) -> str:
        raise NotFound("No such thing.")


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id() -> None:
    schema = AskbaseSchema(query=_Query, extensions=[ErrorCodes])
    token = request_id_var.set("req-123")
    try:
        with capture_logs() as logs:
            result = await schema.execute("{ broken }")
    finally:
        request_id_var.reset(token)
    assert result.errors is not None
    error = result.errors[0].formatted
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL", "requestId": "req-123"}
    assert "hunter2" not in str(error)
    logged = [entry for entry in logs if entry["event"] == "unexpected error"]
    assert logged and logged[0]["log_level"] == "error"
    assert logged[0]["path"] == "broken" and logged[0]["exc_info"][0] is RuntimeError


async def test_expected_errors_keep_their_message_and_code() -> None:
    schema = AskbaseSchema(query=_Query, extensions=[ErrorCodes])
    result = await schema.execute("{ missing }")
    assert result.errors is not None
    error = result.errors[0].formatted
    assert error["message"] == "No such thing."
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_responses_carry_the_request_id(api: Api) -> None:
    response = await api.http.get("/health")
    generated = response.headers["x-request-id"]
    assert len(generated) == 32
    response = await api.http.post(
        "/graphql",
        json={"query": "{ websites { id } }"},
        headers={"x-request-id": "client-chosen-id-1"},
    )
    assert response.headers["x-request-id"] == "client-chosen-id-1"
    assert response.json()["errors"][0]["extensions"]["requestId"] == "client-chosen-id-1"
    # A malformed incoming id is replaced, not echoed.
    response = await api.http.get("/health", headers={"x-request-id": "bad id\twith tabs"})
    assert response.headers["x-request-id"] != "bad id\twith tabs"


async def test_secrets_never_reach_the_logs(api: Api) -> None:
    token = owner_token()
    with capture_logs() as logs:
        await api.gql("{ websites { id } }", token=token)
        await api.gql("{ websites { id } }", token=token + "x")
    assert token not in str(logs)
    assert "SUPABASE_JWT_SECRET" not in repr(api.state.settings) or "**" in repr(api.state.settings)
    assert api.state.settings.supabase_jwt_secret is not None
    assert api.state.settings.supabase_jwt_secret.get_secret_value() not in repr(api.state.settings)
