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
from dataclasses import dataclass

from core.guards.base import Verdict

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
_ROOT = 0


class _SentenceTrie:
    """The word sequences of earlier sentences, to tell whether an open sentence starts like one."""

    def __init__(self) -> None:
        self._children: dict[tuple[int, str], int] = {}
        self._uses: dict[int, int] = {}
        self._next = _ROOT + 1

    def step(self, node: int, word: str) -> int | None:
        return self._children.get((node, word))

    def add(self, key: tuple[str, ...]) -> None:
        node = _ROOT
        for word in key:
            child = self._children.get((node, word))
            if child is None:
                child = self._next
                self._next += 1
                self._children[node, word] = child
                self._uses[child] = 0
            self._uses[child] += 1
            node = child

    def remove(self, key: tuple[str, ...]) -> None:
        node = _ROOT
        for word in key:
            child = self._children[node, word]
            self._uses[child] -= 1
            if self._uses[child] == 0:
                del self._children[node, word]
                del self._uses[child]
            node = child


@dataclass(frozen=True, slots=True)
class _LineStart:
    """What the reading looked like before the current line: restored if the line is not prose."""

    span_open: bool
    sentence_start: int
    sentence_words: tuple[str, ...]
    sentence_node: int | None
    repeated_sentence: int | None
    repeated_phrase: int | None


@dataclass(frozen=True, slots=True)
class _Pending:
    """A word or sentence end that touches the end of the text read, so may still change."""

    start: int
    end: int
    word: str | None  # the casefolded word, or None for a sentence end


def _trimmed(text: str, at: int) -> int:
    """`len(text[:at].rstrip())` without copying the text."""
    while at > 0 and text[at - 1].isspace():
        at -= 1
    return at


class ProseReading:
    """The repetition analysis of one reply, advanced by `read` and judged by `verdict`."""

    def __init__(
        self, *, min_sentence_words: int, ngram_words: int, min_distinct_words: int
    ) -> None:
        self._min_sentence_words = min_sentence_words
        self._ngram_words = ngram_words
        self._min_distinct_words = min_distinct_words
        self._reset()

    def _reset(self) -> None:
        self._text = ""
        self._end = 0  # the reading covers self._text[:self._end]
        self._break_from = 0  # where to look for the next line break
        self._in_fence = False
        self._sentences: set[tuple[str, ...]] = set()
        self._trie = _SentenceTrie()
        self._grams: set[tuple[str, ...]] = set()
        self._repeated_sentence: int | None = None  # start of the first repeated sentence
        self._repeated_phrase: int | None = None  # start of the first repeated long phrase
        # The span (consecutive prose lines) being read, and its open sentence.
        self._span_open = False
        self._sentence_start = 0
        self._sentence_words: list[str] = []
        self._sentence_node: int | None = _ROOT  # where the open sentence leads in the trie
        self._run_words: list[str] = []  # the span's last `ngram_words` words
        self._run_starts: list[int] = []
        self._echoes: set[tuple[str, ...]] = set()  # the span's 3+ word runs, but the last's
        self._pending: _Pending | None = None
        self._start_line(0)

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
        self._log: list[tuple[bool, tuple[str, ...]]] = []  # (is sentence, key) added so far
        self._line_mark = _LineStart(
            self._span_open,
            self._sentence_start,
            tuple(self._sentence_words),
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
        for is_sentence, key in reversed(self._log):
            if is_sentence:
                self._sentences.discard(key)
                self._trie.remove(key)
            else:
                self._grams.discard(key)
        self._log = []
        mark = self._line_mark
        self._span_open = mark.span_open
        self._sentence_start = mark.sentence_start
        self._sentence_words = list(mark.sentence_words)
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
        self._sentence_words = []
        self._sentence_node = _ROOT
        self._run_words = []
        self._run_starts = []
        self._echoes = set()

    def _read_events(self, text: str, stop: int, *, settled: bool) -> None:
        """Record the words and sentence ends up to `stop`; the last may stay pending."""
        self._pending = None
        for match in _EVENT.finditer(text, self._scan, stop):
            start, end = match.span()
            word = None if match.group("end") is not None else match.group()
            if not settled and self._may_change(text, stop, end, word):
                self._pending = _Pending(start, end, None if word is None else word.casefold())
                self._scan = start
                return
            if word is None:
                self._close_sentence()
                self._sentence_start = end
            else:
                self._add_word(word.casefold(), start)
        self._scan = stop

    @staticmethod
    def _may_change(text: str, stop: int, end: int, word: str | None) -> bool:
        if end == stop:
            # More punctuation may extend the run, or a letter may make it no sentence end.
            return word is not None or text[end - 1] != "\n"
        # "l'" may become "l'\u00e9cole".
        return word is not None and end + 1 == stop and text[end] == "'" and "'" not in word

    def _close_sentence(self) -> None:
        key = tuple(self._sentence_words)
        if len(key) >= self._min_sentence_words:
            if key in self._sentences:
                if self._repeated_sentence is None:
                    self._repeated_sentence = self._sentence_start
            else:
                self._sentences.add(key)
                self._trie.add(key)
                self._log.append((True, key))
        self._sentence_words = []
        self._sentence_node = _ROOT

    def _add_word(self, word: str, start: int) -> None:
        if self._sentence_node is not None:
            self._sentence_node = self._trie.step(self._sentence_node, word)
        self._sentence_words.append(word)
        words = self._run_words
        n = self._ngram_words
        # The echo index holds the runs ending before the span's last word.
        for length in range(3, min(n, len(words)) + 1):
            self._echoes.add(tuple(words[-length:]))
        words.append(word)
        self._run_starts.append(start)
        if len(words) > n:
            del words[0]
            del self._run_starts[0]
        if len(words) == n:
            gram = tuple(words)
            if len(set(gram)) >= self._min_distinct_words:
                if gram in self._grams:
                    if self._repeated_phrase is None:
                        self._repeated_phrase = self._run_starts[0]
                else:
                    self._grams.add(gram)
                    self._log.append((False, gram))

    # --- judging ---------------------------------------------------------------------------

    def verdict(self, *, final: bool) -> Verdict:
        """The guard's verdict on the text read, as if it ended there (`final`: it does)."""
        text = self._text
        repeated_sentence = self._repeated_sentence
        repeated_phrase = self._repeated_phrase
        pending = self._pending
        words = self._sentence_words
        node = self._sentence_node
        sentence_open = True
        if pending is not None and pending.word is not None:
            words = [*words, pending.word]
            if node is not None:
                node = self._trie.step(node, pending.word)
            if repeated_phrase is None:
                repeated_phrase = self._phrase_ending_in(pending)
        elif pending is not None:
            sentence_open = False
            if repeated_sentence is None and self._seen_sentence(words):
                repeated_sentence = self._sentence_start
        # The final check counts the unfinished last sentence too.
        final_sentence = final and sentence_open and self._span_open
        if final_sentence and repeated_sentence is None and self._seen_sentence(words):
            repeated_sentence = self._sentence_start
        if repeated_sentence is not None:
            return Verdict.cut(_trimmed(text, repeated_sentence), reason="repeated_sentence")
        if repeated_phrase is not None:
            return Verdict.cut(_trimmed(text, repeated_phrase), reason="repeated_phrase")
        if final:
            return Verdict.allow(None)
        cleared = self._end
        if self._span_open:
            if sentence_open and words and node is not None:
                # The open sentence starts like an earlier one: it may be its repeat.
                cleared = self._sentence_start
            echo = self._echo_start(pending)
            if echo is not None:
                cleared = min(cleared, echo)
        return Verdict.allow(cleared)

    def _seen_sentence(self, words: list[str]) -> bool:
        return len(words) >= self._min_sentence_words and tuple(words) in self._sentences

    def _phrase_ending_in(self, pending: _Pending) -> int | None:
        n = self._ngram_words
        earlier = n - 1
        if pending.word is None or len(self._run_words) < earlier:
            return None
        gram = (*self._run_words[len(self._run_words) - earlier :], pending.word)
        if len(set(gram)) < self._min_distinct_words or gram not in self._grams:
            return None
        return self._run_starts[len(self._run_starts) - earlier] if earlier else pending.start

    def _echo_start(self, pending: _Pending | None) -> int | None:
        """Start of the longest tail (3+ words) of the span that also occurs earlier in it."""
        words = self._run_words
        starts = self._run_starts
        last_is_pending = False
        if pending is not None and pending.word is not None:
            last_is_pending = True
            words = [*words, pending.word]
            starts = [*starts, pending.start]
        longest = 0
        for length in range(3, min(self._ngram_words, len(words)) + 1):
            tail = tuple(words[-length:])
            seen = tail in self._echoes or (
                # The runs ending at the last recorded word are earlier than a pending one.
                last_is_pending and len(words) > length and tail == tuple(words[-length - 1 : -1])
            )
            if not seen:
                break
            longest = length
        if longest < 3 or len(set(words[-longest:])) < 2:
            return None
        return starts[-longest]
