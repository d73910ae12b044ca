"""How well an answer's sources supported it, and why a question counts as a knowledge gap.

confidence = 0 when the answer had no sources or declined; otherwise the best cosine
similarity among the cited sources, rescaled so that the lowest similarity an answer may
use (ANSWER_MIN_SIMILARITY) is 0 and FULL_SUPPORT or more is 1. Sources found only by
full-text search count as the floor. Explained in docs/architecture.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from askbase.app.knowledge.retrieval import Hit

FULL_SUPPORT = 0.7  # all-MiniLM-L6-v2: a passage that answers the question scores ~0.6-0.8
LOW_CONFIDENCE = 0.25  # below: a knowledge gap (best similarity under 0.4 at the defaults)
_CITATION = re.compile(r"\[(\d{1,2})\]")
_DECLINED = re.compile(
    r"\b(I (do not|don't|cannot|can't|couldn't|could not) (know|find|answer|say)"
    r"|(sources|documents) (do not|don't) (say|contain|mention|cover))",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Assessment:
    confidence: float
    declined: bool
    reasons: tuple[str, ...]  # knowledge-gap reasons: no_sources, low_confidence, declined


def declined(answer: str) -> bool:
    """The answer says it does not know (checked at its start, where models say so)."""
    return _DECLINED.search(answer[:300]) is not None


def cited(hits: Sequence[Hit], answer: str) -> list[Hit]:
    """The hits the answer cites as [n]; all of them when it cites none."""
    numbers = {int(n) for n in _CITATION.findall(answer)}
    chosen = [h for i, h in enumerate(hits, 1) if i in numbers]
    return chosen or list(hits)


def assess(hits: Sequence[Hit], answer: str, floor: float) -> Assessment:
    if not hits:
        return Assessment(0.0, False, ("no_sources",))
    if declined(answer):
        return Assessment(0.0, True, ("declined",))
    floor = max(floor, 0.0)
    best = max((h.similarity or floor) for h in cited(hits, answer))
    confidence = min(1.0, max(0.0, (best - floor) / max(FULL_SUPPORT - floor, 1e-6)))
    low = ("low_confidence",) if confidence < LOW_CONFIDENCE else ()
    return Assessment(round(confidence, 4), False, low)
