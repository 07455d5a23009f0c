"""One naming threshold for texts of every length, and the second reading of a text's prose."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from core.language.combiner import COMBINER_FILE, Combiner, shipped_combiner
from core.language.default_detector import DefaultDetector
from core.language.languages import UNDETERMINED


def test_the_shipped_combiner_has_one_threshold_for_every_length() -> None:
    folder = resources.files("core").joinpath("data", "language")
    stored = json.loads(folder.joinpath(COMBINER_FILE).read_text(encoding="utf-8"))
    assert [key for key in stored if "confidence" in key] == ["min_confidence"]
    combiner = shipped_combiner()
    assert combiner.min_confidence == stored["min_confidence"]
    assert Combiner.from_json(combiner.to_json()).min_confidence == combiner.min_confidence


def test_the_detector_reports_the_combiners_threshold(detector: DefaultDetector) -> None:
    assert detector.min_confidence == shipped_combiner().min_confidence
    assert DefaultDetector(min_confidence=0.9).min_confidence == 0.9


def test_a_short_sentence_refused_at_the_old_threshold_is_named(
    detector: DefaultDetector,
) -> None:
    # Named with a probability between the threshold and 0.74, the old one for short texts.
    found = detector.detect("Je suis là.")
    assert detector.min_confidence <= found.confidence < 0.74
    assert found.language == "fr"
    assert DefaultDetector(min_confidence=0.74).detect("Je suis là.").language == UNDETERMINED


# Sentences written for these tests: a few words of a BLOOM language around a bracketed list of
# names or a formula, which makes the whole text read as a language outside BLOOM.
NAMES_IN_SWAHILI = (
    "Wageni (Grant Ingram, Heather Walsh, Jaime Vance, Janeen Upton, Lisa Stone, Robyn Allen, "
    "Ryan Moore, Toby Nash) walifika jana jioni."
)
FORMULA_IN_SWAHILI = (
    "Dawa hii huzuia enzyme ya ACE (angiotensin-converting enzyme, "
    "Asp-Arg-Val-Tyr-Ile-His-Pro-Phe-His-Leu) mwilini."
)


@pytest.mark.parametrize("text", [NAMES_IN_SWAHILI, FORMULA_IN_SWAHILI])
def test_a_text_read_as_foreign_is_named_from_its_prose(
    detector: DefaultDetector, text: str
) -> None:
    # Nothing is named at a threshold of 1, so this is the reading of the whole text: its best
    # candidate is "other" (a language outside BLOOM), above every BLOOM language.
    whole = DefaultDetector(min_confidence=1.0).detect(text)
    assert whole.confidence > max(whole.scores.values())
    found = detector.detect(text)
    assert found.language == "sw"
    assert found.confidence == max(found.scores.values())
    # The text without its bracketed aside reads the same.
    assert detector.detect(text.split(" (")[0] + text.split(")")[1]).language == "sw"


@pytest.mark.parametrize(
    "text",
    [
        "Wir danken (Grant Ingram, Heather Walsh, Jaime Vance, Janeen Upton, Lisa Stone) "
        "für die Hilfe beim Umzug.",
        # Low German capitalises its nouns: without them, "De speelt jeden in'n mit den un de"
        # reads as Catalan; they stay in the second reading.
        "De Kinner speelt jeden Dag in'n Goorn mit den Hund un de Katt.",
    ],
)
def test_text_in_a_language_outside_bloom_stays_undetermined(
    detector: DefaultDetector, text: str
) -> None:
    assert detector.detect(text).language == UNDETERMINED
