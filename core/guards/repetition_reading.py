"""Incremental reading of a growing reply for the repetition guard: each character is read once.

The repetition guard's decisions are defined on the prose of the whole text: its lines outside
code, tables and list items, merged into spans, split into sentences (at terminal punctuation,
line ends and span ends) and words. `ProseReading` reaches the same decisions while reading only
what was appended since the last call. Whatever a continuation could still change is kept
provisional: the last line may turn out to be a table row or a list item, so what it added is
logged and taken back if it does; a word or sentence end touching the end of the text may still
grow, so it is judged afresh on every call instead of being recorded.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass

from core.guards.base import Verdict
from core.guards.hash_window import RecentHashes
from core.guards.prose_lines import LINE_BREAK, LineKind, is_fence
from core.guards.prose_sentences import ROOT, SentenceMemory, extended
from core.guards.prose_span import Pending, ProseSpan

# A sentence ends at terminal punctuation followed by a space or the end, or at a line end.
_SENTENCE_END = r"[.!?\u2026]+(?=\s|$)|[\u3002\uff01\uff1f]+|\n"
# Words: runs of letters and digits; characters of unspaced scripts count one word each.
_WORD = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\W_]+(?:'[^\W_]+)?"
_EVENT = re.compile(f"(?P<end>{_SENTENCE_END})|{_WORD}")


@dataclass(frozen=True, slots=True)
class _LineStart:
    """What the reading looked like before the current line: restored if the line is not prose."""

    span_open: bool
    sentence_start: int
    sentence_key: int
    sentence_length: int
    sentence_prefixes: array[int]
    sentence_node: int | None
    repeated_sentence: int | None
    repeated_phrase: int | None


def _trimmed(text: str, at: int) -> int:
    """`len(text[:at].rstrip())` without copying the text."""
    while at > 0 and text[at - 1].isspace():
        at -= 1
    return at


class ProseReading:
    """The repetition analysis of one reply, advanced by `read` and judged by `verdict`."""

    def __init__(
        self,
        *,
        min_sentence_words: int,
        ngram_words: int,
        min_distinct_words: int,
        window_words: int,
    ) -> None:
        self._min_sentence_words = min_sentence_words
        self._ngram_words = ngram_words
        self._min_distinct_words = min_distinct_words
        self._window = window_words
        self._reset()

    def _reset(self) -> None:
        self._text = ""
        self._end = 0  # the reading covers self._text[:self._end]
        self._break_from = 0  # where to look for the next line break
        self._in_fence = False
        # Earlier sentences and `ngram_words` runs, as hashes, of the last `window` words.
        self._sentences = SentenceMemory(self._window)
        # Every `ngram_words` run of the window, however few distinct words it has: whether it
        # has enough is asked only of a run that repeats (the same words, the same answer).
        # Dict keys, not a set: a set whose entries come and go keeps a table twice the size.
        # Each run is remembered once and forgotten once, so `__delitem__` finds it.
        self._grams: dict[int, None] = {}
        self._recent_grams = RecentHashes(self._window, self._grams.__delitem__)
        self._repeated_sentence: int | None = None  # start of the first repeated sentence
        self._repeated_phrase: int | None = None  # start of the first repeated long phrase
        # The span (consecutive prose lines) being read, and its open sentence.
        self._span_open = False
        self._sentence_start = 0
        self._sentence_key = ROOT  # hash of the open sentence's words
        self._sentence_length = 0
        self._sentence_prefixes: array[int] = array("q")  # its first `window` prefix hashes
        self._sentence_node: int | None = ROOT  # its key while an earlier sentence starts so
        self._span = ProseSpan()  # the span's last words, where a repeat may end
        self._pending: Pending | None = None
        self._start_line(0)

    def held(self) -> int:
        """How many hashes the reading holds: bounded by its window, however long the reply."""
        return (
            self._sentences.held()
            + len(self._grams)
            + len(self._recent_grams)
            + len(self._sentence_prefixes)
            + len(self._line_mark.sentence_prefixes)
            + self._span.held()
        )

    # --- reading ---------------------------------------------------------------------------

    def read(self, text: str, end: int) -> bool:
        """Take `text[:end]` as the reply so far; False when that is what was read already."""
        if not self._extends(text, end):
            self._reset()
        elif end == self._end:
            self._text = text
            return False
        while True:
            match = LINE_BREAK.search(text, self._break_from, end)
            if match is None or (match.end() == end and match.group() == "\r"):
                # A final "\r" may be the first half of "\r\n": the line is not over yet.
                self._break_from = end if match is None else match.start()
                break
            self._read_line(text, match.end(), terminated=True)
            if is_fence(text, self._line.start, match.end()):
                self._in_fence = not self._in_fence
            self._start_line(match.end())
            self._break_from = match.end()
        if end > self._line.start:
            self._read_line(text, end, terminated=False)
        self._text = text
        self._end = end
        return True

    def _extends(self, text: str, end: int) -> bool:
        if end < self._end:
            return False
        if text.startswith(self._text):
            return True
        return text[: self._end] == self._text[: self._end]

    def _start_line(self, start: int) -> None:
        self._line = LineKind(start)
        self._line_excluded = False
        self._scan = start  # where to look for the next word or sentence end
        self._sentences.settle_line()
        self._recent_grams.settle()
        self._line_mark = _LineStart(
            self._span_open,
            self._sentence_start,
            self._sentence_key,
            self._sentence_length,
            array("q", self._sentence_prefixes),
            self._sentence_node,
            self._repeated_sentence,
            self._repeated_phrase,
        )

    def _read_line(self, text: str, stop: int, *, terminated: bool) -> None:
        if self._line_excluded:
            return
        if self._in_fence or self._line.excluded(text, stop):
            self._exclude_line()
            return
        if not self._span_open:
            self._open_span()
        self._read_events(text, stop, settled=terminated)

    def _exclude_line(self) -> None:
        """Take back what the line added as prose, then end the span where the line starts."""
        self._line_excluded = True
        self._pending = None
        self._sentences.take_back_line()
        for gram in self._recent_grams.take_back_line():
            del self._grams[gram]
        mark = self._line_mark
        self._span_open = mark.span_open
        self._sentence_start = mark.sentence_start
        self._sentence_key = mark.sentence_key
        self._sentence_length = mark.sentence_length
        self._sentence_prefixes = array("q", mark.sentence_prefixes)
        self._sentence_node = mark.sentence_node
        self._repeated_sentence = mark.repeated_sentence
        self._repeated_phrase = mark.repeated_phrase
        if self._span_open:
            if self._sentence_start < self._line.start:
                self._close_sentence()
            self._span_open = False

    def _open_span(self) -> None:
        self._span_open = True
        self._sentence_start = self._line.start
        self._open_sentence()
        self._span = ProseSpan()

    def _open_sentence(self) -> None:
        self._sentence_key = ROOT
        self._sentence_length = 0
        self._sentence_prefixes = array("q")
        self._sentence_node = ROOT

    def _read_events(self, text: str, stop: int, *, settled: bool) -> None:
        """Record the words and sentence ends up to `stop`; the last may stay pending."""
        self._pending = None
        # Only an event ending at `stop` or one character before it may still change.
        near = stop - 1
        # Every word of the reply passes through this loop: what it updates is held in locals
        # and written back once, so a word costs no method call and few attribute look-ups.
        # The open sentence: its hash, length, prefix hashes and whether one remembered
        # sentence starts so.
        key = self._sentence_key
        length = self._sentence_length
        prefixes = self._sentence_prefixes
        node = self._sentence_node
        known = self._sentences.prefixes
        window = self._window
        # The span's words, its last two, its 3-word runs and where each last ended.
        prose_span = self._span
        span = prose_span.words
        held = len(span)  # words in `span`
        last2 = span[-2] if held >= 2 else None
        last1 = span[-1] if span else None
        base = prose_span.base
        number = base + held  # the next word's number in the span
        runs = prose_span.runs
        run_ends = prose_span.run_ends
        echo = prose_span.echo_before
        # The last `ngram_words` words and their starts, and the runs of them remembered.
        words = prose_span.run_words
        starts = prose_span.run_starts
        n = self._ngram_words
        running = len(words)  # words in `words`
        grams = self._grams
        remember = self._recent_grams.add
        repeated = self._repeated_phrase
        scan = stop
        for match in _EVENT.finditer(text, self._scan, stop):
            start, end = match.span()
            is_end = match.lastgroup == "end"
            if (
                end >= near
                and not settled
                and self._may_change(text, stop, end, None if is_end else match.group())
            ):
                word = None if is_end else hash(match.group().casefold())
                self._pending = Pending(start, end, word)
                scan = start
                break
            if is_end:
                self._sentence_key = key
                self._sentence_length = length
                self._sentence_node = node
                self._close_sentence()
                self._sentence_start = end
                key, length, prefixes, node = ROOT, 0, self._sentence_prefixes, ROOT
                continue
            word = hash(match.group().casefold())
            key = hash((key, word))  # `extended`
            length += 1
            # The open sentence keeps its first `window` prefixes (`prefixes` holds
            # `min(length, window)` of them).
            if length <= window:
                prefixes.append(key)
            if node is not None:
                node = key if key in known else None
            span.append(word)
            held += 1
            if last2 is not None:
                run = hash((last2, last1, word))
                runs.append(run)
                echo = run_ends.get(run)
                run_ends[run] = number
                if held > window:
                    # The span's first word is forgotten, and the run starting at it unless
                    # that run also ended later.
                    first = runs[0]
                    if run_ends[first] == base + 2:
                        del run_ends[first]
                    del span[0]
                    del runs[0]
                    held -= 1
                    base += 1
            else:
                echo = None
            last2, last1 = last1, word
            number += 1
            words.append(word)
            starts.append(start)
            if running == n:
                del words[0]
                del starts[0]
            else:
                running += 1
            if running == n:
                gram = hash(tuple(words))
                if gram not in grams:
                    grams[gram] = None
                    remember(gram)
                elif repeated is None and len(set(words)) >= self._min_distinct_words:
                    repeated = starts[0]
        self._scan = scan
        self._sentence_key = key
        self._sentence_length = length
        self._sentence_node = node
        prose_span.base = base
        prose_span.echo_before = echo
        self._repeated_phrase = repeated

    @staticmethod
    def _may_change(text: str, stop: int, end: int, word: str | None) -> bool:
        if end == stop:
            # More punctuation may extend the run, or a letter may make it no sentence end.
            return word is not None or text[end - 1] != "\n"
        # "l'" may become "l'\u00e9cole".
        return word is not None and end + 1 == stop and text[end] == "'" and "'" not in word

    def _close_sentence(self) -> None:
        key = self._sentence_key
        if self._sentence_length >= self._min_sentence_words:
            if key in self._sentences.keys:
                if self._repeated_sentence is None:
                    self._repeated_sentence = self._sentence_start
            else:
                self._sentences.remember(key, self._sentence_prefixes)
        self._open_sentence()

    # --- judging ---------------------------------------------------------------------------

    def verdict(self, *, final: bool) -> Verdict:
        """The guard's verdict on the text read, as if it ended there (`final`: it does)."""
        text = self._text
        repeated_sentence = self._repeated_sentence
        repeated_phrase = self._repeated_phrase
        pending = self._pending
        key = self._sentence_key
        length = self._sentence_length
        node = self._sentence_node
        sentence_open = True
        if pending is not None and pending.word is not None:
            key = extended(key, pending.word)
            length += 1
            if node is not None:
                node = key if key in self._sentences.prefixes else None
            if repeated_phrase is None:
                repeated_phrase = self._span.phrase_ending_in(
                    pending,
                    self._grams,
                    ngram_words=self._ngram_words,
                    min_distinct_words=self._min_distinct_words,
                )
        elif pending is not None:
            sentence_open = False
            if repeated_sentence is None and self._seen_sentence(key, length):
                repeated_sentence = self._sentence_start
        # The final check counts the unfinished last sentence too.
        final_sentence = final and sentence_open and self._span_open
        if final_sentence and repeated_sentence is None and self._seen_sentence(key, length):
            repeated_sentence = self._sentence_start
        if repeated_sentence is not None:
            return Verdict.cut(_trimmed(text, repeated_sentence), reason="repeated_sentence")
        if repeated_phrase is not None:
            return Verdict.cut(_trimmed(text, repeated_phrase), reason="repeated_phrase")
        if final:
            return Verdict.allow(None)
        cleared = self._end
        if self._span_open:
            if sentence_open and length and node is not None:
                # The open sentence starts like an earlier one: it may be its repeat.
                cleared = self._sentence_start
            echo = self._span.echo_start(pending, ngram_words=self._ngram_words)
            if echo is not None:
                cleared = min(cleared, echo)
        return Verdict.allow(cleared)

    def _seen_sentence(self, key: int, length: int) -> bool:
        return length >= self._min_sentence_words and key in self._sentences.keys
