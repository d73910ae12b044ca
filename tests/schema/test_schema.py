"""The committed SDL is what the code exports, and it keeps every name of the contract."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import build_schema, find_breaking_changes

from askbase.schema.build import export_sdl

ROOT = Path(__file__).resolve().parents[2]
VENDORED_CONTRACT = ROOT / "tests" / "contract.graphql"
SHARED_CONTRACT = ROOT.parent / "shared" / "contract.graphql"
# Sections of the shared contract whose issues are still open; the vendored copy leaves
# them out until they are built, and the superset check below then covers them too.
PENDING_SECTIONS: tuple[str, ...] = ()
SECTION = re.compile(r"(?m)^# -{20,}\n")


def without_pending(contract: str) -> str:
    parts = SECTION.split(contract)
    starts = SECTION.findall(contract)
    kept = parts[0]
    for start, part in zip(starts, parts[1:], strict=True):
        first_line = part.split("\n", 1)[0]
        if not any(name in first_line for name in PENDING_SECTIONS):
            kept += start + part
    return kept.rstrip("\n") + "\n"


def test_committed_schema_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == export_sdl(), "schema.graphql drifted: run `make schema` and commit it"


def test_schema_is_a_superset_of_the_contract() -> None:
    contract = build_schema(VENDORED_CONTRACT.read_text(encoding="utf-8"))
    ours = build_schema(export_sdl())
    breaking = find_breaking_changes(contract, ours)
    assert breaking == [], "\n".join(f"{c.type.name}: {c.description}" for c in breaking)


def test_vendored_contract_is_the_shared_one() -> None:
    """The copy in tests/ lets a lone clone run the check; it must equal the source, less
    the sections that are not built yet."""
    if not SHARED_CONTRACT.exists():
        pytest.skip("the shared design folder is not beside this clone")
    assert VENDORED_CONTRACT.read_text() == without_pending(SHARED_CONTRACT.read_text())


def test_drift_check_catches_a_removed_field() -> None:
    contract = build_schema(VENDORED_CONTRACT.read_text(encoding="utf-8"))
    described = re.compile(r'\n  """[^"]*"""\n  visitorId: ID!\n')
    damaged = build_schema(described.sub("\n", export_sdl(), count=1))
    assert find_breaking_changes(contract, damaged)
