"""The repetition guard: stop a reply that loops, at the end of the looped text's first occurrence.

BLOOMChat repeats sentences and long phrases. The guard finds, in the prose of the growing
reply, a complete sentence that repeats an earlier one, or a run of `ngram_words` words that
occurred before, and cuts the reply where the repetition starts. It holds back text that may be
the start of a repeat, so the user does not see half a repeated sentence before the cut.

Legitimate repetition is left alone: list items, code (fenced or indented), table rows, short
sentences ("Yes. Yes.") and a repeated word ("very very very") never count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from core.guards.base import Guard, GuardContext, GuardSession, Verdict

_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)]|[A-Za-z][.)])\s+")
_INDENTED_CODE = re.compile(r"^(?: {4}|\t)")
# A sentence ends at terminal punctuation followed by a space or the end, or at a line end.
_SENTENCE_END = re.compile(r"[.!?\u2026]+(?=\s|$)|[\u3002\uff01\uff1f]+|\n")
# Words: runs of letters and digits; characters of unspaced scripts count one word each.
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\W_]+(?:'[^\W_]+)?")


@dataclass(frozen=True)
class _Word:
    text: str
    start: int


def _prose_spans(text: str) -> Iterator[tuple[int, int]]:
    """Character ranges of prose: lines outside code, tables and list items, merged."""
    offset = 0
    in_fence = False
    span_start: int | None = None
    for line in text.splitlines(keepends=True):
        fence = _FENCE.match(line) is not None
        stripped = line.strip()
        excluded = (
            in_fence
            or fence
            or stripped.startswith("|")
            or stripped.count("|") >= 2
            or _LIST_ITEM.match(line) is not None
            or (_INDENTED_CODE.match(line) is not None and bool(stripped))
        )
        if fence:
            in_fence = not in_fence
        if excluded:
            if span_start is not None:
                yield span_start, offset
                span_start = None
        elif span_start is None:
            span_start = offset
        offset += len(line)
    if span_start is not None:
        yield span_start, offset


def _key(text: str) -> tuple[str, ...]:
    return tuple(word.casefold() for word in _WORD.findall(text))


class RepetitionGuard(Guard):
    """Cuts looping replies; `min_sentence_words` and `ngram_words` say what counts as a loop."""

    name = "repetition"

    def __init__(
        self, *, min_sentence_words: int = 4, ngram_words: int = 10, min_distinct_words: int = 4
    ) -> None:
        self.min_sentence_words = min_sentence_words
        self.ngram_words = ngram_words
        self.min_distinct_words = min_distinct_words

    def begin(self, context: GuardContext) -> GuardSession:
        return RepetitionSession(self)


class RepetitionSession(GuardSession):
    """Re-reads the reply whenever a word is completed; in between, the last verdict stands."""

    def __init__(self, guard: RepetitionGuard) -> None:
        self._guard = guard
        self._settled = ""  # the text up to its last word boundary at the last analysis
        self._verdict = Verdict.allow(0)

    async def check(self, text: str, *, final: bool) -> Verdict:
        boundary = len(text) if final else self._last_boundary(text)
        settled = text[:boundary]
        if settled != self._settled or final:
            self._settled = settled
            self._verdict = self._analyse(text, complete_to=boundary, final=final)
        return self._verdict

    @staticmethod
    def _last_boundary(text: str) -> int:
        for index in range(len(text) - 1, -1, -1):
            if not (text[index].isalnum() or text[index] == "_"):
                return index + 1
        return 0

    def _analyse(self, text: str, *, complete_to: int, final: bool) -> Verdict:
        spans = list(_prose_spans(text))
        cut = self._repeated_sentence(text, spans, final)
        if cut is not None:
            return Verdict.cut(len(text[:cut].rstrip()), reason="repeated_sentence")
        cut = self._repeated_phrase(text, spans, complete_to)
        if cut is not None:
            return Verdict.cut(len(text[:cut].rstrip()), reason="repeated_phrase")
        if final:
            return Verdict.allow(None)
        return Verdict.allow(self._hold_back(text, spans, complete_to))

    # --- sentences -------------------------------------------------------------------------

    def _sentences(
        self, text: str, spans: list[tuple[int, int]]
    ) -> Iterator[tuple[int, int, bool]]:
        """(start, end, complete) of each sentence in the prose spans."""
        for span_start, span_end in spans:
            start = span_start
            for match in _SENTENCE_END.finditer(text, span_start, span_end):
                yield start, match.end(), True
                start = match.end()
            if start < span_end:
                yield start, span_end, span_end < len(text)

    def _repeated_sentence(
        self, text: str, spans: list[tuple[int, int]], final: bool
    ) -> int | None:
        seen: set[tuple[str, ...]] = set()
        for start, end, complete in self._sentences(text, spans):
            key = _key(text[start:end])
            if len(key) < self._guard.min_sentence_words or not (complete or final):
                continue
            if key in seen:
                return start
            seen.add(key)
        return None

    # --- long phrases ----------------------------------------------------------------------

    def _words(
        self, text: str, spans: list[tuple[int, int]], complete_to: int
    ) -> list[list[_Word]]:
        runs = []
        for span_start, span_end in spans:
            words = [
                _Word(m.group().casefold(), m.start())
                for m in _WORD.finditer(text, span_start, min(span_end, complete_to))
                if m.end() <= complete_to
            ]
            runs.append(words)
        return runs

    def _repeated_phrase(
        self, text: str, spans: list[tuple[int, int]], complete_to: int
    ) -> int | None:
        n = self._guard.ngram_words
        seen: set[tuple[str, ...]] = set()
        for words in self._words(text, spans, complete_to):
            texts = [word.text for word in words]
            for index in range(len(texts) - n + 1):
                gram = tuple(texts[index : index + n])
                if len(set(gram)) < self._guard.min_distinct_words:
                    continue
                if gram in seen:
                    return words[index].start
                seen.add(gram)
        return None

    # --- holding back the start of a possible repeat ---------------------------------------

    def _hold_back(self, text: str, spans: list[tuple[int, int]], complete_to: int) -> int:
        """How far the reply may be shown: not into what may be the start of a repeat."""
        cleared = len(text)
        if spans and spans[-1][1] == len(text):
            sentences = list(self._sentences(text, spans))
            *earlier, (start, end, complete) = sentences
            partial = _key(text[start:end])
            if partial and not complete:
                for s, e, done in earlier:
                    key = _key(text[s:e])
                    if (
                        done
                        and len(key) >= self._guard.min_sentence_words
                        and key[: len(partial)] == partial
                    ):
                        cleared = min(cleared, start)
                        break
            runs = self._words(text, spans, len(text))
            echo = self._echo_start(runs[-1]) if runs and runs[-1] else None
            if echo is not None:
                cleared = min(cleared, echo)
        return cleared

    def _echo_start(self, words: list[_Word]) -> int | None:
        """Start of the longest tail (3+ words) of `words` that also occurs earlier in them."""
        texts = [word.text for word in words]
        last = len(texts) - 1
        longest = 0
        for position in range(last):
            if texts[position] != texts[last]:
                continue
            length = 1
            while (
                length < position + 1
                and length < self._guard.ngram_words
                and texts[position - length] == texts[last - length]
            ):
                length += 1
            longest = max(longest, length)
        if longest < 3 or len(set(texts[last - longest + 1 :])) < 2:
            return None
        return words[last - longest + 1].start
