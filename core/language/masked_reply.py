"""The masked text and sentences of a growing reply, re-masking only what follows its settled part.

`mask` and `segments` read a whole reply; a guard checking after every token would re-read the
whole reply each time. A `MaskedReply` keeps the mask of a settled prefix — text that no pattern
match can reach across, so nothing appended can change its mask — and re-masks only the text
after it. The results are exactly those of `mask(text)` and `segments(mask(text), final=...)`.

`settle_points` says where the mask may settle. Whether a line of code outside a fence is
code depends on the whole line, so the line holding the settled point keeps its mask as if it
were prose and counts of its symbols, and is blanked only when the line as a whole looks like
code.

Of the reply itself only the unsettled text is kept, and the caller may let go of the mask of
sentences it will not read again (`forget`): what a reply holds follows its unsettled part and
its last sentences, not its length.
"""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple

from core.language import settle_points
from core.language.masking import (
    CODE_SYMBOLS,
    FENCED_CODE,
    SPAN_PATTERNS,
    WORD_PATTERNS,
    blank,
    looks_like_code,
    may_match,
    may_match_any,
    may_match_text,
)
from core.language.segments import Segment, sentence_ends, split
from core.language.settle_points import Fence
from core.language.settled_mask import SettledMask

_VISIBLE = re.compile(r"\S")
assert SPAN_PATTERNS[0] is FENCED_CODE  # fences are blanked by `settle_points`, open or not
# Code symbols counted by one C-level search (a translation table is read character by character).
_CODE_SYMBOL = re.compile("[" + re.escape("".join(sorted(CODE_SYMBOLS))) + "]")


class _LineEvidence(NamedTuple):
    """What decides whether part of a line is code: its code symbols and visible extent."""

    symbols: int = 0
    first: int = -1  # position of the first visible character, -1 when none
    last: int = -1  # position of the last visible character, -1 when none
    last_char: str = ""

    @classmethod
    def of(cls, piece: str, offset: int) -> _LineEvidence:
        """The evidence of `piece`, a stretch of one line starting at `offset`."""
        leading = len(piece) - len(piece.lstrip())
        if leading == len(piece):
            return cls()
        kept = piece.rstrip()
        symbols = len(_CODE_SYMBOL.findall(piece))
        return cls(symbols, offset + leading, offset + len(kept) - 1, kept[-1])

    def then(self, other: _LineEvidence) -> _LineEvidence:
        """The evidence of this stretch followed by `other` on the same line."""
        if other.first < 0:
            return self
        if self.first < 0:
            return other
        return _LineEvidence(self.symbols + other.symbols, self.first, other.last, other.last_char)

    @property
    def code(self) -> bool:
        """Whether a whole line with this evidence is blanked as code."""
        if self.first < 0:
            return False
        return looks_like_code(self.last - self.first + 1, self.symbols, self.last_char)


class MaskedReply:
    """`mask(text)` and its sentences for a reply that grows (see the module docstring).

    Call `update` with the whole reply as it grows. A text cut short is masked afresh from
    the last settled point it still holds, or from its start. Text before the unsettled part
    is not kept to compare with: a caller that changes it (a restart from a kept prefix) says
    so first with `rewind`.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._length = 0  # of the text at the last update
        self._tail = ""  # its unsettled part, text[settled:]
        self._settled = 0
        self._line_start = 0  # start of the line holding the settled point
        # The mask of text[:line_start], then of text[line_start:settled] as if not code.
        self._prefix = SettledMask()
        self._blank_from = (-1, -1)  # (start, end): the mask is blank from start to end < line
        self._open_fence: str | None = None  # the marks of a fence open at the settled point
        self._prefix_ends: list[int] = []  # sentence ends before `settled`, on the same terms
        self._line_evidence = _LineEvidence()  # of text[line_start:settled], before code lines
        self._line_code = False  # whether the settled line as it stands now is code
        self._window = ""  # the mask of text[settled:]
        self._window_ends: list[int] = []  # sentence ends from `settled` on

    def update(self, text: str) -> None:
        """Take the reply as it now stands."""
        # A settled point may depend on the character after it (not a capital): the settled
        # part is kept only if the text still holds that character.
        if not text.startswith(self._tail[:1], self._settled):
            self._reset()
        self._length = len(text)
        self._remask(text[self._settled :])

    def rewind(self, length: int) -> None:
        """Hear that the text after its first `length` characters is about to change."""
        if length <= self._settled:
            self._reset()

    def forget(self, before: int) -> None:
        """Let go of the mask before the sentence holding `before`: no later call reads it.

        `masked`, `first_visible` and `segments` must then start at `before` or later.
        """
        ends = self._prefix_ends
        index = bisect.bisect_right(ends, min(before, self._settled))
        if not index:
            return
        keep = ends[index - 1]
        # Kept: the sentence end before the settled line, where a sentence starts while that
        # line is blank as code, and the ends from the sentence holding `before` on.
        head = bisect.bisect_left(ends, self._line_start, 0, index) - 1
        if head >= 0 and ends[head] < keep:
            ends[head + 1 : index - 1] = []
            del ends[:head]
        else:
            del ends[: index - 1]
        self._prefix.forget(keep)

    def held(self) -> int:
        """Characters of text and mask held for the reply: its unsettled part twice, and the
        mask of its last sentences."""
        return len(self._tail) + len(self._window) + self._prefix.held()

    def masked(self, start: int, end: int) -> str:
        """`mask(text)[start:end]`."""
        end = min(end, self._length)
        if start >= end:
            return ""
        parts: list[str] = []
        line, settled = self._line_start, self._settled
        if start < line:
            parts.append(self._prefix.slice(start, min(end, line)))
        if start < settled and end > line:
            first, last = max(start, line), min(end, settled)
            parts.append(
                " " * (last - first) if self._line_code else self._prefix.slice(first, last)
            )
        if end > settled:
            parts.append(self._window[max(start, settled) - settled : end - settled])
        return "".join(parts)

    def first_visible(self, start: int) -> int | None:
        """Where the first character `mask(text)` keeps at or after `start` is, if any."""
        line, settled = self._line_start, self._settled
        if start < line:
            # Asked again from the same place (the guard asks from its checked point after
            # every token), the blank stretch found last time need not be searched again.
            known_start, known_end = self._blank_from
            search_from = known_end if known_start == start else start
            found = self._prefix.visible(search_from, line)
            if found is not None:
                return found
            self._blank_from = (start, line)
        if start < settled and not self._line_code:
            found = self._prefix.visible(max(start, line), settled)
            if found is not None:
                return found
        following = _VISIBLE.search(self._window, max(start - settled, 0))
        return following.start() + settled if following else None

    def segments(self, *, final: bool, after: int = 0) -> list[Segment]:
        """`segments(mask(text), final=final)`, leaving out sentences ending by `after`."""
        # A sentence ends after `after` only if it has a visible character from `after` on; the
        # first such character is in the first of them. Blank stretches (code) are skipped.
        visible = self.first_visible(after)
        if visible is None:
            return []
        prefix, window = self._prefix_ends, self._window_ends
        # While the settled line is blank as code, no sentence ends inside it.
        limit = bisect.bisect_left(prefix, self._line_start) if self._line_code else len(prefix)
        in_prefix = bisect.bisect_right(prefix, visible, 0, limit)
        in_window = bisect.bisect_right(window, visible)
        # The sentence holding `visible` starts at the last end up to it.
        start = window[in_window - 1] if in_window else (prefix[in_prefix - 1] if in_prefix else 0)
        later = prefix[in_prefix:limit] + window[in_window:]
        found = split(self.masked(start, self._length), start, later, final=final)
        return [segment for segment in found if segment.end > after]

    def _remask(self, raw: str) -> None:
        """Mask `raw`, the text from the settled point on, and settle what no match can reach."""
        settled = self._settled
        self._tail = raw
        # Most tokens hold none of the characters a pattern needs: skip those patterns.
        chars = set(raw)
        found: list[Fence] = []
        stages = [raw]
        if self._open_fence is not None or may_match_any(chars):
            found = settle_points.fences(raw, self._open_fence)
            stages.append(settle_points.blank_fences(raw, found))
            for pattern in SPAN_PATTERNS[1:]:
                stage = stages[-1]
                runs = may_match(pattern, chars) and may_match_text(pattern, stage)
                stages.append(pattern.sub(blank, stage) if runs else stage)
        else:
            stages *= len(SPAN_PATTERNS) + 1
        spans = view = stages[-1]  # `view`: the mask if no line were code
        for pattern in WORD_PATTERNS:
            if may_match(pattern, chars) and may_match_text(pattern, view):
                view = pattern.sub(blank, view)
        lines = self._lines(spans, settled)
        self._line_code = lines[0][2]
        self._window = self._blank_code(view, lines)
        context = self._prefix.last()
        view_ends = [
            end + settled - len(context)
            for end in sentence_ends(context + view)
            if end + settled - len(context) >= settled
        ]
        self._window_ends = _outside_code(view_ends, lines, raw, settled)
        for point in settle_points.candidates(raw):
            if settle_points.can_settle(point, raw, stages, found):
                self._open_fence = settle_points.open_fence(point, found)
                self._settle(point, raw, spans, view, lines, view_ends)
                break

    def _lines(self, spans: str, offset: int) -> list[tuple[int, int, bool]]:
        """(start, end, code) of each line of the window; the first one is the settled line."""
        lines: list[tuple[int, int, bool]] = []
        start = 0
        while True:
            newline = spans.find("\n", start)
            end = len(spans) if newline < 0 else newline
            evidence = _LineEvidence.of(spans[start:end], offset + start)
            if not lines:
                evidence = self._line_evidence.then(evidence)
            # The settled line starts before the window.
            lines.append(
                (offset + start if lines else self._line_start, offset + end, evidence.code)
            )
            if newline < 0:
                return lines
            start = newline + 1

    def _blank_code(self, view: str, lines: list[tuple[int, int, bool]]) -> str:
        if not any(code for _, _, code in lines):
            return view
        offset = self._settled
        pieces = [
            " " * (end - max(start, offset))
            if code
            else view[max(start - offset, 0) : end - offset]
            for start, end, code in lines
        ]
        return "\n".join(pieces)

    def _settle(
        self,
        point: int,
        raw: str,
        spans: str,
        view: str,
        lines: list[tuple[int, int, bool]],
        view_ends: list[int],
    ) -> None:
        """Move the settled point `point` characters further."""
        settled = self._settled
        new_settled = settled + point
        last_newline = raw.rfind("\n", 0, point)
        if last_newline < 0:
            self._prefix.append(view[:point])
            self._prefix_ends += [end for end in view_ends if end < new_settled]
            self._line_evidence = self._line_evidence.then(_LineEvidence.of(spans[:point], settled))
        else:
            line_code = lines[0][2]
            new_line = settled + last_newline + 1
            if line_code:
                blank_from = max(self._line_start, self._prefix.start)  # none of it forgotten
                self._prefix.truncate(blank_from)
                self._prefix.append(" " * (settled - blank_from))
                del self._prefix_ends[bisect.bisect_left(self._prefix_ends, self._line_start) :]
            self._prefix.append(self._window[: last_newline + 1])
            self._prefix.append(view[last_newline + 1 : point])
            self._prefix_ends += [end for end in self._window_ends if end < new_line]
            self._prefix_ends += [end for end in view_ends if new_line <= end < new_settled]
            self._line_start = new_line
            self._line_evidence = _LineEvidence.of(spans[last_newline + 1 : point], new_line)
        self._settled = new_settled
        self._tail = raw[point:]
        self._window = self._window[point:]
        self._window_ends = [end for end in self._window_ends if end >= new_settled]
        self._line_code = next(code for start, stop, code in lines if start <= new_settled <= stop)


def _outside_code(
    ends: list[int], lines: list[tuple[int, int, bool]], raw: str, offset: int
) -> list[int]:
    """The sentence ends that remain once code lines are blank: line breaks, and ends in prose.

    `ends` are positions in the reply from `offset` on, where `raw` (the rest of it) starts.
    """
    if not any(code for _, _, code in lines):
        return ends
    kept: list[int] = []
    for end in ends:
        if end - offset < len(raw) and raw[end - offset] == "\n":
            kept.append(end)
            continue
        for start, stop, code in lines:
            if start <= end - 1 < stop:
                if not code:
                    kept.append(end)
                break
        else:
            kept.append(end)
    return kept
