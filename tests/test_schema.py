"""The committed SDL is what the code exports, and it keeps every name of the contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, find_breaking_changes

from schema.build import export_sdl

ROOT = Path(__file__).resolve().parents[1]
VENDORED_CONTRACT = ROOT / "tests" / "contract.graphql"
SHARED_CONTRACT = ROOT.parent / "shared" / "contract.graphql"


def test_committed_schema_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == export_sdl(), "schema.graphql drifted: run `make schema` and commit it"


def test_schema_is_a_superset_of_the_contract() -> None:
    contract = build_schema(VENDORED_CONTRACT.read_text(encoding="utf-8"))
    ours = build_schema(export_sdl())
    breaking = find_breaking_changes(contract, ours)
    assert breaking == [], "\n".join(f"{c.type.name}: {c.description}" for c in breaking)


def test_vendored_contract_is_the_shared_one() -> None:
    """The copy in tests/ lets a lone clone run the check; it must equal the source."""
    if not SHARED_CONTRACT.exists():
        pytest.skip("the shared design folder is not beside this clone")
    assert VENDORED_CONTRACT.read_text() == SHARED_CONTRACT.read_text()


def test_drift_check_catches_a_removed_field() -> None:
    contract = build_schema(VENDORED_CONTRACT.read_text(encoding="utf-8"))
    damaged = build_schema(export_sdl().replace("  visitorId: ID!\n", "", 1))
    assert find_breaking_changes(contract, damaged)
