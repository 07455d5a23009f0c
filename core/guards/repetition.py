"""The repetition guard: stop a reply that loops, at the end of the looped text's first occurrence.

BLOOMChat repeats sentences and long phrases. The guard finds, in the prose of the growing
reply, a complete sentence that repeats an earlier one, or a run of `ngram_words` words that
occurred before, and cuts the reply where the repetition starts. It holds back text that may be
the start of a repeat, so the user does not see half a repeated sentence before the cut.

Legitimate repetition is left alone: list items, code (fenced or indented), table rows, short
sentences ("Yes. Yes.") and a repeated word ("very very very") never count.

Repeats are looked for among the last `window_words` words (sentences, runs of words): what
the guard keeps per reply is bounded, however long the reply grows, and held as hashes.

While the reply streams, the guard judges it up to its last word boundary (a word still being
written is not judged yet), reading only the text added since the last call; the final check
judges the whole text.
"""

from __future__ import annotations

import re

from core.errors import ConfigurationError
from core.guards.base import Guard, GuardContext, GuardSession, Verdict
from core.guards.repetition_reading import ProseReading

# How many of the latest words a repeat is looked for in: memory per reply stays bounded, and a
# model that loops repeats what it wrote shortly before.
DEFAULT_WINDOW_WORDS = 256

# The text up to its last character that ends a word: a separator (`\W` is exactly "neither
# `str.isalnum()` nor `_`"), or a character of a script written without spaces, which the reading
# counts as a word of its own (`_WORD` there).
_TO_LAST_WORD_END = re.compile(
    r"(?s:.*)(?:\W|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af])"
)


class RepetitionGuard(Guard):
    """Cuts looping replies; `min_sentence_words` and `ngram_words` say what counts as a loop."""

    name = "repetition"

    def __init__(
        self,
        *,
        min_sentence_words: int = 4,
        ngram_words: int = 10,
        min_distinct_words: int = 4,
        window_words: int = DEFAULT_WINDOW_WORDS,
    ) -> None:
        if window_words < max(ngram_words, 3):
            raise ConfigurationError(
                f"window_words ({window_words}) must cover a run of ngram_words ({ngram_words})"
            )
        self.min_sentence_words = min_sentence_words
        self.ngram_words = ngram_words
        self.min_distinct_words = min_distinct_words
        self.window_words = window_words

    def begin(self, context: GuardContext) -> GuardSession:
        return RepetitionSession(self)


class RepetitionSession(GuardSession):
    """Judges the reply up to its last word boundary; in between, the last verdict stands."""

    def __init__(self, guard: RepetitionGuard) -> None:
        self._reading = ProseReading(
            min_sentence_words=guard.min_sentence_words,
            ngram_words=guard.ngram_words,
            min_distinct_words=guard.min_distinct_words,
            window_words=guard.window_words,
        )
        self._text = ""
        self._boundary = 0  # end of the last non-word character of self._text
        self._verdict = Verdict.allow(0)
        self._verdict_current = False  # whether self._verdict judges what the reading holds

    async def check(self, text: str, *, final: bool) -> Verdict:
        if final:
            self._reading.read(text, len(text))
            self._verdict_current = False
            return self._reading.verdict(final=True)
        changed = self._reading.read(text, self._boundary_of(text))
        if changed or not self._verdict_current:
            self._verdict = self._reading.verdict(final=False)
            self._verdict_current = True
        return self._verdict

    def held(self) -> int:
        """How many hashes the session keeps of the reply (bounded by the guard's window)."""
        return self._reading.held()

    def _boundary_of(self, text: str) -> int:
        """Where the last word of `text` starts, looking only at what was added when it can."""
        extends = text.startswith(self._text)
        low = len(self._text) if extends else 0
        boundary = self._boundary if extends else 0
        last = _TO_LAST_WORD_END.match(text, low)
        if last is not None:
            boundary = last.end()
        self._text = text
        self._boundary = boundary
        return boundary
