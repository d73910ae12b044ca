"""The search a request runs stays on indexes under row-level security: the planner
must be able to use the chunks' primary key and website indexes with the owner's and
the visitor's policies in place, not scan every chunk the policy lets through."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest

from askbase.database import search
from askbase.database.pool import Database, create_pool
from tests.conftest import Api, Tenant
from tests.knowledge.test_search import add_text

PARAMS = ("refunds warehouse", 40, 10.0, 1.0, 0.25, 5, 1, None, 1000, [1.0] * 4, 0.05)


@pytest.mark.parametrize("caller", ["owner", "visitor"])
async def test_hybrid_search_never_scans_the_chunks_table(
    api: Api, tenant: Tenant, pg_dsn: str, caller: str
) -> None:
    await add_text(api, tenant, "refunds.md", "# Refunds\n\nRefunds take five days.")
    await add_text(api, tenant, "warehouse.md", "# Warehouse\n\nThe warehouse is in Lyon.")
    website = uuid.UUID(tenant.website_id)
    claims: dict[str, Any] = (
        {"sub": str(tenant.owner_id), "role": "authenticated"}
        if caller == "owner"
        else {"sub": str(uuid.uuid4()), "role": "anon", "website_id": str(website)}
    )
    role = "authenticated" if caller == "owner" else "anon"
    vector = np.random.default_rng(0).normal(size=384).astype(np.float32)
    vector /= np.linalg.norm(vector)
    db = Database(await create_pool(pg_dsn, min_size=1, max_size=1))
    # With sequential scans priced out, a scan that remains is one that no index could
    # serve under the policies (as a full scan of every chunk was, for the final lookup).
    settings = {**search.HNSW_SETTINGS, "enable_seqscan": "off"}
    try:
        async with db.session(role, claims, settings) as conn:  # type: ignore[arg-type]
            plan = "\n".join(
                row[0]
                for row in await conn.fetch(
                    "explain (costs off) " + search.HYBRID_SQL, website, vector, *PARAMS
                )
            )
    finally:
        await db.close()
    assert "Seq Scan on document_chunks" not in plan, plan
