"""The last words of the prose span being read, as hashes: which of its tails occurred before."""

from __future__ import annotations

from array import array
from collections.abc import Container
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pending:
    """A word or sentence end that touches the end of the text read, so may still change."""

    start: int
    end: int
    word: int | None  # the casefolded word's hash, or None for a sentence end


class ProseSpan:
    """The words of one span (consecutive prose lines) that a repeat may end in.

    `run_words` and `run_starts`: the span's last `ngram_words` words (hashes) and where they
    start. `words`: its last `window` words (`base` is the first one's number in the span);
    `runs`: its 3-word runs ending at its third word on; `run_ends`: each remembered run's last
    end; `echo_before`: the end before that of the run ending last. The reading appends to them
    in place as it reads words.
    """

    __slots__ = ("base", "echo_before", "run_ends", "run_starts", "run_words", "runs", "words")

    def __init__(self) -> None:
        self.run_words: list[int] = []
        self.run_starts: list[int] = []
        self.words: array[int] = array("q")
        self.runs: array[int] = array("q")
        self.base = 0
        self.run_ends: dict[int, int] = {}
        self.echo_before: int | None = None

    def held(self) -> int:
        """How many hashes the span holds (bounded by the window)."""
        return (
            len(self.run_words)
            + len(self.run_starts)
            + len(self.words)
            + len(self.runs)
            + len(self.run_ends)
        )

    def phrase_ending_in(
        self,
        pending: Pending,
        grams: Container[int],
        *,
        ngram_words: int,
        min_distinct_words: int,
    ) -> int | None:
        """Start of the run of `ngram_words` words ending in the pending word, if that run is
        one of `grams` (hashes of earlier runs) and has `min_distinct_words` distinct words."""
        earlier = ngram_words - 1
        if pending.word is None or len(self.run_words) < earlier:
            return None
        gram = (*self.run_words[len(self.run_words) - earlier :], pending.word)
        if len(set(gram)) < min_distinct_words or hash(gram) not in grams:
            return None
        return self.run_starts[len(self.run_starts) - earlier] if earlier else pending.start

    def echo_start(self, pending: Pending | None, *, ngram_words: int) -> int | None:
        """Start of the longest tail (3+ words, at most `ngram_words`) of the span that also
        occurs earlier in it, at the latest earlier place its last three words occur."""
        span = self.words
        tail = self.run_words
        starts = self.run_starts
        if pending is not None and pending.word is not None:
            if len(span) < 2:
                return None
            tail = [*tail, pending.word]
            starts = [*starts, pending.start]
            # The runs ending at the last recorded word are earlier than a pending one.
            earlier = self.run_ends.get(hash((span[-2], span[-1], pending.word)))
        else:
            earlier = self.echo_before
        if earlier is None or len(tail) < 3:
            return None
        longest = 0
        base = self.base
        for length in range(1, min(ngram_words, len(tail)) + 1):
            index = earlier - length + 1 - base
            if index < 0 or span[index] != tail[-length]:
                break
            longest = length
        if longest < 3 or len(set(tail[-longest:])) < 2:
            return None
        return starts[-longest]
