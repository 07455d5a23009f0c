"""A streamed text is matched only where a window may still become an entry, and still in full."""

from __future__ import annotations

import itertools

import pytest

from core.safety import wordlist_matching, wordlist_watcher
from core.safety.wordlists import WordListClassifier, parse_word_list

LISTS = WordListClassifier(
    [
        parse_word_list(
            "xx",
            "[obscenity]\nla grosse bete\nbete noire\ncrasse\n"
            "[hate]\nvilain\n[except]\nvilain petit canard\n",
        )
    ]
)
WORDS = [
    "la",
    "grosse",
    "bete",
    "noire",
    "crasse",
    "vilain",
    "petit",
    "canard",
    "riviere",
    "b e t e",
]


def streamed(text: str, size: int) -> tuple[frozenset[str], int]:
    """The categories found and how far the text may be shown, streamed `size` characters a
    step."""
    watcher = LISTS.watch("xx")
    assert watcher is not None
    for end in range(size, len(text) + size, size):
        verdict, shown = watcher.release(text[:end])
    return frozenset(verdict.categories), shown


@pytest.mark.parametrize("size", [1, 4, 32])
def test_skipping_windows_that_start_no_entry_changes_no_finding(
    size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [" ".join(words) + " ." for words in itertools.product(WORDS, repeat=3)]
    found = {text: streamed(text, size) for text in texts}
    monkeypatch.setattr(wordlist_watcher, "_may_decide", lambda folding, tokens, first_new: True)
    for text in texts:
        assert streamed(text, size) == found[text], text
    # Not vacuous: entries of several words are found, and one inside an exception is not.
    assert "obscenity" in found["la grosse bete ."][0]
    assert "obscenity" in found["crasse bete noire ."][0]
    assert found["vilain petit canard ."][0] == frozenset()
    assert "hate" in found["vilain petit riviere ."][0]


def test_a_window_of_words_that_begins_no_entry_needs_no_match() -> None:
    watcher = LISTS.watch("xx")
    assert watcher is not None
    folding = wordlist_watcher._foldings(tuple(LISTS._lists_for("xx")))[0][1]
    tokens = wordlist_matching.prepared([(word,) for word in ["la", "riviere", "canard"]])
    assert not wordlist_watcher._may_decide(folding, tokens, 2)
    tokens = wordlist_matching.prepared([(word,) for word in ["la", "grosse", "bete"]])
    assert wordlist_watcher._may_decide(folding, tokens, 2)
