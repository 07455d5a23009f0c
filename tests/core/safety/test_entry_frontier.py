"""The recall / false-positive frontier of bench.safety_terms drops the costliest entry first."""

from __future__ import annotations

from bench.safety_data import SafetyRow
from bench.safety_terms import frontier
from core.safety.wordlists import WordListClassifier, parse_word_list


def _row(text: str, *, hateful: bool) -> SafetyRow:
    label = "hate" if hateful else "none"
    return SafetyRow("xx", text, hateful, label, "test:row", "user")


def test_entries_that_flag_benign_rows_most_cheaply_go_first() -> None:
    lists = WordListClassifier(
        [parse_word_list("xx", "[hate]\nslurone\nslurtwo\nslurthree\n[obscenity]\ncurse\n")]
    )
    rows = [
        _row("slurone here", hateful=True),
        _row("slurone there", hateful=False),
        _row("slurone again", hateful=False),
        _row("slurtwo here", hateful=True),
        _row("slurtwo there", hateful=True),
        _row("slurtwo again", hateful=True),
        _row("slurtwo once", hateful=False),
        _row("slurthree only in hate", hateful=True),
        _row("a curse is not hate", hateful=False),
        _row("nothing listed", hateful=True),
    ]
    # 6 hateful rows, 4 benign: slurone costs one hateful row for two benign ones, slurtwo three
    # for one; slurthree flags no benign row and is never dropped.
    assert frontier(rows, lists) == [("", 5, 3), ("slurone", 4, 1), ("slurtwo", 1, 0)]
