"""The confidence formula of docs/architecture.md, on hand-made hits."""

from __future__ import annotations

import uuid

from askbase.app.chat.confidence import Assessment, assess, declined
from askbase.app.knowledge.retrieval import Hit


def hit(similarity: float | None) -> Hit:
    return Hit(uuid.uuid4(), uuid.uuid4(), "doc", "snippet", 0.5, "content", similarity)


def test_no_sources_and_declined_answers_have_no_confidence() -> None:
    assert assess([], "I don't know.", 0.3) == Assessment(0.0, False, ("no_sources",))
    model_says = "I couldn't find this in the documents I have."
    assert assess([hit(0.8)], model_says, 0.3) == Assessment(0.0, True, ("declined",))
    assert declined("The sources don't mention opening hours.")
    assert not declined("Refunds are paid within five days [1].")


def test_confidence_is_the_best_cited_similarity_rescaled() -> None:
    hits = [hit(0.45), hit(0.7), hit(None)]
    assert assess(hits, "As [2] says…", 0.3).confidence == 1.0
    assert assess(hits, "As [1] says…", 0.3).confidence == 0.375
    assert assess(hits, "Uncited.", 0.3).confidence == 1.0  # none cited: all of them
    low = assess(hits, "Only [3].", 0.3)  # found by full-text search only: the floor
    assert low.confidence == 0.0 and low.reasons == ("low_confidence",)
    assert assess([hit(0.5)], "See [1].", 0.3).reasons == ()
