"""The label-reading and second-opinion tools of the safety benchmarks pick the rows they say."""

from __future__ import annotations

from bench.safety_classifier import confirming_thresholds
from bench.safety_data import SafetyRow
from bench.safety_terms import benign_hits
from core.safety.wordlists import WordListClassifier, parse_word_list


def _row(text: str, *, harmful: bool) -> SafetyRow:
    return SafetyRow("xx", text, harmful, "hate" if harmful else "none", "test:row", "user")


def test_thresholds_confirm_the_share_asked_of_the_hateful_hits_only() -> None:
    scores = [0.9, 0.8, 0.7, 0.6, 0.95, 0.1]
    hits = [True, True, True, True, True, False]
    hateful = [True, True, True, True, False, True]
    # The hateful hits score 0.9, 0.8, 0.7, 0.6; the benign hit (0.95) and the hateful row the
    # lists miss (0.1) play no part.
    assert confirming_thresholds(scores, hits, hateful, [1.0, 0.75, 0.5, 0.25]) == [
        0.6,
        0.7,
        0.8,
        0.9,
    ]


def test_no_hateful_hit_confirms_everything() -> None:
    assert confirming_thresholds([0.5], [False], [True], [1.0, 0.5]) == [0.0, 0.0]


def test_benign_hits_lists_flagged_benign_rows_and_samples_them_reproducibly() -> None:
    lists = WordListClassifier([parse_word_list("xx", "[hate]\nslurone\n[obscenity]\ncurse\n")])
    rows = [
        _row("slurone used", harmful=True),
        _row("a curse here", harmful=False),
        _row("nothing listed", harmful=False),
        *(_row(f"slurone number {n}", harmful=False) for n in range(10)),
    ]
    hits = benign_hits(rows, lists, None)
    assert [row.text for row, _ in hits][:2] == ["a curse here", "slurone number 0"]
    assert len(hits) == 11
    assert hits[0][1] == ["obscenity:curse"]
    assert hits[1][1] == ["hate:slurone"]
    sample = benign_hits(rows, lists, 4)
    assert len(sample) == 4
    assert sample == benign_hits(rows, lists, 4)
    assert {row.text for row, _ in sample} <= {row.text for row, _ in hits}
