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
from collections.abc import Sequence
from dataclasses import dataclass

from core.guards.base import Verdict
from core.guards.hash_window import HashCounts, RecentEntries, RecentHashes

# Lines that are not prose (each pattern is matched at the start of a line).
_FENCE = re.compile(r"\s*(```|~~~)")
_LIST_ITEM = re.compile(r"\s*(?:[-*+\u2022]|\d{1,3}[.)]|[A-Za-z][.)])\s+")
_INDENTED_CODE = re.compile(r"(?: {4}|\t)")
# Once this many characters follow a line's first visible one, the patterns above are decided.
_PREFIX_DECIDED = 6
# A sentence ends at terminal punctuation followed by a space or the end, or at a line end.
_SENTENCE_END = r"[.!?\u2026]+(?=\s|$)|[\u3002\uff01\uff1f]+|\n"
# Words: runs of letters and digits; characters of unspaced scripts count one word each.
_WORD = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\W_]+(?:'[^\W_]+)?"
_EVENT = re.compile(f"(?P<end>{_SENTENCE_END})|{_WORD}")
# What `str.splitlines` splits on.
_LINE_BREAK = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_VISIBLE = re.compile(r"\S")
_ROOT = 0  # the prefix hash of a sentence with no words yet


def _extended(prefix: int, word: int) -> int:
    """The hash of a word sequence one word longer than the one `prefix` hashes."""
    return hash((prefix, word))


class _SentenceIndex:
    """Earlier sentences as hashes: their whole word sequences, and every prefix of them (a trie
    of hashes), to tell whether an open sentence starts like one."""

    def __init__(self) -> None:
        # A sentence is remembered only when its hash is not (a repeat is reported instead).
        self.keys: set[int] = set()
        self.prefixes = HashCounts()  # one count per remembered sentence that starts so

    def add(self, key: int, prefixes: Sequence[int]) -> None:
        self.keys.add(key)
        self.prefixes.add_all(prefixes)

    def remove(self, key: int, prefixes: Sequence[int]) -> None:
        self.keys.discard(key)
        self.prefixes.remove_all(prefixes)


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


@dataclass(frozen=True, slots=True)
class _Pending:
    """A word or sentence end that touches the end of the text read, so may still change."""

    start: int
    end: int
    word: int | None  # the casefolded word's hash, or None for a sentence end


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
        self._sentences = _SentenceIndex()
        self._recent_sentences = RecentEntries(self._window, self._forget_sentence)
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
        self._sentence_key = _ROOT  # hash of the open sentence's words
        self._sentence_length = 0
        self._sentence_prefixes: array[int] = array("q")  # its first `window` prefix hashes
        self._sentence_node: int | None = _ROOT  # its key while an earlier sentence starts so
        self._run_words: list[int] = []  # hashes of the span's last `ngram_words` words
        self._run_starts: list[int] = []
        # The span's last `window` words (hashes; self._span_base is the first one's number in
        # the span), the 3-word runs ending at its third word on, each remembered run's last
        # end, and the one before it of the run ending last.
        self._span_words: array[int] = array("q")
        self._span_runs: array[int] = array("q")
        self._span_base = 0
        self._run_ends: dict[int, int] = {}
        self._echo_before: int | None = None
        self._pending: _Pending | None = None
        self._start_line(0)

    def held(self) -> int:
        """How many hashes the reading holds: bounded by its window, however long the reply."""
        sentences = self._sentences
        return (
            len(sentences.keys)
            + len(sentences.prefixes)
            + len(self._recent_sentences)
            + len(self._grams)
            + len(self._recent_grams)
            + len(self._sentence_prefixes)
            + len(self._line_mark.sentence_prefixes)
            + len(self._run_words)
            + len(self._run_starts)
            + len(self._span_words)
            + len(self._span_runs)
            + len(self._run_ends)
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
            match = _LINE_BREAK.search(text, self._break_from, end)
            if match is None or (match.end() == end and match.group() == "\r"):
                # A final "\r" may be the first half of "\r\n": the line is not over yet.
                self._break_from = end if match is None else match.start()
                break
            self._read_line(text, match.end(), terminated=True)
            if _FENCE.match(text, self._line_start, match.end()) is not None:
                self._in_fence = not self._in_fence
            self._start_line(match.end())
            self._break_from = match.end()
        if end > self._line_start:
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
        self._line_start = start
        self._line_seen = start  # how far the line was looked at for its kind
        self._line_visible: int | None = None  # its first non-space character
        self._line_pipes = 0
        self._line_prefix: bool | None = None  # decided: starts as a fence, list item or code
        self._line_excluded = False
        self._scan = start  # where to look for the next word or sentence end
        self._recent_sentences.settle()
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
        self._look_at_line(text, stop)
        if self._is_excluded(text, stop):
            self._exclude_line()
            return
        if not self._span_open:
            self._open_span()
        self._read_events(text, stop, settled=terminated)

    def _look_at_line(self, text: str, stop: int) -> None:
        seen = self._line_seen
        if seen < stop:
            self._line_pipes += text.count("|", seen, stop)
            if self._line_visible is None:
                visible = _VISIBLE.search(text, seen, stop)
                self._line_visible = None if visible is None else visible.start()
            self._line_seen = stop

    def _is_excluded(self, text: str, stop: int) -> bool:
        """Whether the line so far is code, a table row or a list item (once so, always so)."""
        if self._in_fence:
            return True
        visible = self._line_visible
        if visible is None:
            return False
        if self._line_pipes >= 2 or text[visible] == "|":
            return True
        if self._line_prefix is not None:
            return self._line_prefix
        start = self._line_start
        prefix = (
            _FENCE.match(text, start, stop) is not None
            or _LIST_ITEM.match(text, start, stop) is not None
            or _INDENTED_CODE.match(text, start, stop) is not None
        )
        if stop - visible >= _PREFIX_DECIDED:
            self._line_prefix = prefix
        return prefix

    def _exclude_line(self) -> None:
        """Take back what the line added as prose, then end the span where the line starts."""
        self._line_excluded = True
        self._pending = None
        for entry in self._recent_sentences.take_back_line():
            self._forget_sentence(entry)
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
            if self._sentence_start < self._line_start:
                self._close_sentence()
            self._span_open = False

    def _open_span(self) -> None:
        self._span_open = True
        self._sentence_start = self._line_start
        self._open_sentence()
        self._run_words = []
        self._run_starts = []
        self._span_words = array("q")
        self._span_runs = array("q")
        self._span_base = 0
        self._run_ends = {}
        self._echo_before = None

    def _open_sentence(self) -> None:
        self._sentence_key = _ROOT
        self._sentence_length = 0
        self._sentence_prefixes = array("q")
        self._sentence_node = _ROOT

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
        span = self._span_words
        held = len(span)  # words in `span`
        last2 = span[-2] if held >= 2 else None
        last1 = span[-1] if span else None
        base = self._span_base
        number = base + held  # the next word's number in the span
        runs = self._span_runs
        run_ends = self._run_ends
        echo = self._echo_before
        # The last `ngram_words` words and their starts, and the runs of them remembered.
        words = self._run_words
        starts = self._run_starts
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
                self._pending = _Pending(start, end, word)
                scan = start
                break
            if is_end:
                self._sentence_key = key
                self._sentence_length = length
                self._sentence_node = node
                self._close_sentence()
                self._sentence_start = end
                key, length, prefixes, node = _ROOT, 0, self._sentence_prefixes, _ROOT
                continue
            word = hash(match.group().casefold())
            key = hash((key, word))  # `_extended`
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
        self._span_base = base
        self._echo_before = echo
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
                prefixes = self._sentence_prefixes
                self._sentences.add(key, prefixes)
                self._recent_sentences.add([key, *prefixes], max(len(prefixes), 1))
        self._open_sentence()

    def _forget_sentence(self, entry: array[int]) -> None:
        """Forget a sentence (its key, then its prefixes) the reading no longer remembers."""
        if entry[0] in self._sentences.keys:
            self._sentences.remove(entry[0], entry[1:])

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
            key = _extended(key, pending.word)
            length += 1
            if node is not None:
                node = key if key in self._sentences.prefixes else None
            if repeated_phrase is None:
                repeated_phrase = self._phrase_ending_in(pending)
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
            echo = self._echo_start(pending)
            if echo is not None:
                cleared = min(cleared, echo)
        return Verdict.allow(cleared)

    def _seen_sentence(self, key: int, length: int) -> bool:
        return length >= self._min_sentence_words and key in self._sentences.keys

    def _phrase_ending_in(self, pending: _Pending) -> int | None:
        n = self._ngram_words
        earlier = n - 1
        if pending.word is None or len(self._run_words) < earlier:
            return None
        gram = (*self._run_words[len(self._run_words) - earlier :], pending.word)
        if len(set(gram)) < self._min_distinct_words or hash(gram) not in self._grams:
            return None
        return self._run_starts[len(self._run_starts) - earlier] if earlier else pending.start

    def _echo_start(self, pending: _Pending | None) -> int | None:
        """Start of the longest tail (3+ words, at most `ngram_words`) of the span that also
        occurs earlier in it, at the latest earlier place its last three words occur."""
        span = self._span_words
        tail = self._run_words
        starts = self._run_starts
        if pending is not None and pending.word is not None:
            if len(span) < 2:
                return None
            tail = [*tail, pending.word]
            starts = [*starts, pending.start]
            # The runs ending at the last recorded word are earlier than a pending one.
            earlier = self._run_ends.get(hash((span[-2], span[-1], pending.word)))
        else:
            earlier = self._echo_before
        if earlier is None or len(tail) < 3:
            return None
        longest = 0
        base = self._span_base
        for length in range(1, min(self._ngram_words, len(tail)) + 1):
            index = earlier - length + 1 - base
            if index < 0 or span[index] != tail[-length]:
                break
            longest = length
        if longest < 3 or len(set(tail[-longest:])) < 2:
            return None
        return starts[-longest]
