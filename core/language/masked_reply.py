"""The masked text and sentences of a growing reply, re-masking only what follows its settled part.

`mask` and `segments` read a whole reply; a guard checking after every token would re-read the
whole reply each time. A `MaskedReply` keeps the mask of a settled prefix — text that no pattern
match can reach across, so nothing appended can change its mask — and re-masks only the text
after it. The results are exactly those of `mask(text)` and `segments(mask(text), final=...)`.

A settled point is a position after a blank, or after a full stop of a script written without
spaces, where no fence, inline code, angle-bracket link or quotation is open, and no run of
capitalized names can continue. Whether a line of code outside a fence is code depends on the
whole line, so the line holding the settled point keeps its un-blanked mask and counts of its
symbols, and is blanked only when the line as a whole looks like code.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from core.language.masking import (
    CODE_SYMBOLS,
    FENCED_CODE,
    INLINE_CODE,
    QUOTED,
    SLACK_LINK,
    SPAN_PATTERNS,
    URL,
    WORD_PATTERNS,
    blank,
    blank_all,
    looks_like_code,
)
from core.language.segments import Segment, sentence_ends, split

# Where a settled point may fall: after a blank that no name run can cross (the character
# before a space is not part of a name nor what a name may follow), or after a full stop of a
# script written without spaces.
_SETTLE_CANDIDATE = re.compile(r"(?<![\w'’,;:)\]-]) |[^\S ]|[。！？；]")  # noqa: RUF001
_UNSPACED_STOPS = frozenset("。！？；")  # noqa: RUF001
_VISIBLE = re.compile(r"\S")
_SYMBOLS_DELETED = str.maketrans(dict.fromkeys(CODE_SYMBOLS))
# Openers of quotations `QUOTED` blanks, with the characters that can close each one.
_QUOTE_CLOSERS = {
    '"': '"',
    "“": "”",
    "„": "“”",
    "«": "»",
    "‹": "›",  # noqa: RUF001
    "「": "」",
    "『": "』",
    "'": "'",
}
_QUOTE_OPENER = re.compile("[" + re.escape("".join(_QUOTE_CLOSERS)) + "]")
_WORDISH = re.compile(r"[\w'’]")  # noqa: RUF001
# The longest quotation `QUOTED` blanks is 200 characters between its marks.
_QUOTE_REACH = 201
# How many candidate settled points to try per update, latest first.
_SETTLE_TRIES = 4
_STAGE_AFTER_FENCES = SPAN_PATTERNS.index(FENCED_CODE) + 1
_STAGE_BEFORE_LINKS = SPAN_PATTERNS.index(SLACK_LINK)
_STAGE_BEFORE_QUOTES = SPAN_PATTERNS.index(QUOTED)
assert SPAN_PATTERNS.index(INLINE_CODE) == _STAGE_AFTER_FENCES


@dataclass(frozen=True)
class _LineEvidence:
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
        symbols = len(piece) - len(piece.translate(_SYMBOLS_DELETED))
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

    Call `update` with the whole reply after every token; text that is not an extension of
    the previous one (a restart from a kept prefix, a cut) is masked afresh from the last
    settled point it still shares, or from its start.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._text = ""
        self._settled_text = ""  # text[:settled]
        self._settled = 0
        self._line_start = 0  # start of the line holding the settled point
        # The mask of text[:line_start], then of text[line_start:settled] as if not code.
        self._prefix = ""
        self._prefix_ends: list[int] = []  # sentence ends before `settled`, on the same terms
        self._line_evidence = _LineEvidence()  # of text[line_start:settled], before code lines
        self._line_code = False  # whether the settled line as it stands now is code
        self._window = ""  # the mask of text[settled:]
        self._window_ends: list[int] = []  # sentence ends from `settled` on

    @property
    def text(self) -> str:
        """The reply as last updated."""
        return self._text

    def update(self, text: str) -> None:
        """Take the reply as it now stands."""
        if len(text) < self._settled or not text.startswith(self._settled_text):
            self._reset()
        self._text = text
        self._remask()

    def masked(self, start: int, end: int) -> str:
        """`mask(text)[start:end]`."""
        end = min(end, len(self._text))
        if start >= end:
            return ""
        parts: list[str] = []
        line, settled = self._line_start, self._settled
        if start < line:
            parts.append(self._prefix[start : min(end, line)])
        if start < settled and end > line:
            first, last = max(start, line), min(end, settled)
            parts.append(" " * (last - first) if self._line_code else self._prefix[first:last])
        if end > settled:
            parts.append(self._window[max(start, settled) - settled : end - settled])
        return "".join(parts)

    def first_visible(self, start: int) -> int | None:
        """Where the first character `mask(text)` keeps at or after `start` is, if any."""
        line, settled = self._line_start, self._settled
        if start < line:
            found = _VISIBLE.search(self._prefix, start, line)
            if found:
                return found.start()
        if start < settled and not self._line_code:
            found = _VISIBLE.search(self._prefix, max(start, line), settled)
            if found:
                return found.start()
        found = _VISIBLE.search(self._window, max(start - settled, 0))
        return found.start() + settled if found else None

    def segments(self, *, final: bool, after: int = 0) -> list[Segment]:
        """`segments(mask(text), final=final)`, leaving out sentences ending by `after`."""
        prefix, window = self._prefix_ends, self._window_ends
        # While the settled line is blank as code, no sentence ends inside it.
        limit = bisect.bisect_left(prefix, self._line_start) if self._line_code else len(prefix)
        in_prefix = bisect.bisect_right(prefix, after, 0, limit)
        in_window = bisect.bisect_right(window, after)
        # The sentence holding `after` starts at the last end up to it.
        start = window[in_window - 1] if in_window else (prefix[in_prefix - 1] if in_prefix else 0)
        later = prefix[in_prefix:limit] + window[in_window:]
        found = split(self.masked(start, len(self._text)), start, later, final=final)
        return [segment for segment in found if segment.end > after]

    def _remask(self) -> None:
        settled = self._settled
        raw = self._text[settled:]
        stages = [raw]
        for pattern in SPAN_PATTERNS:
            stages.append(pattern.sub(blank, stages[-1]))
        spans = stages[-1]
        view = blank_all(WORD_PATTERNS, spans)  # the mask if no line were code
        lines = self._lines(spans, settled)
        self._line_code = lines[0][2]
        self._window = self._blank_code(view, lines)
        context = self._prefix[-1:] if settled else ""
        view_ends = [
            end + settled - len(context)
            for end in sentence_ends(context + view)
            if end + settled - len(context) >= settled
        ]
        self._window_ends = _outside_code(view_ends, lines, self._text)
        for point in self._settle_candidates(raw):
            if self._can_settle(point, raw, stages):
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

    def _settle_candidates(self, raw: str) -> list[int]:
        points = [match.end() for match in _SETTLE_CANDIDATE.finditer(raw)]
        return points[: -_SETTLE_TRIES - 1 : -1]

    def _can_settle(self, point: int, raw: str, stages: list[str]) -> bool:
        """Whether no pattern match can reach across `point` (in the window), whatever follows."""
        line = raw.rfind("\n", 0, point) + 1
        if raw[point - 1] in _UNSPACED_STOPS and URL.search(raw[:point].rsplit(maxsplit=1)[-1]):
            return False  # a link could go on past the full stop
        for fence in FENCED_CODE.finditer(raw):
            if fence.start() >= point:
                break
            body = fence.group(0)
            closed = len(body) >= 6 and body.endswith(body[:3])
            if fence.end() > point or not closed:
                return False
        if stages[_STAGE_AFTER_FENCES].count("`", line, point) % 2:
            return False  # inline code still open
        links = stages[_STAGE_BEFORE_LINKS]
        opening = max(links.rfind("<", 0, point), links.rfind(">", 0, point))
        if opening >= 0 and links[opening] == "<":
            following = links[opening + 1]
            if following not in "<>" and not following.isspace():
                return False  # an angle-bracket link still open
        return not self._quote_open(point, line, stages)

    @staticmethod
    def _quote_open(point: int, line: int, stages: list[str]) -> bool:
        before, after = stages[_STAGE_BEFORE_QUOTES], stages[_STAGE_BEFORE_QUOTES + 1]
        for quotation in QUOTED.finditer(before, line, point + _QUOTE_REACH + 1):
            if quotation.start() >= point:
                break
            if quotation.end() > point:
                return True  # a quotation already closed across the point
        for opener in _QUOTE_OPENER.finditer(before, max(line, point - _QUOTE_REACH), point):
            at = opener.start()
            if after[at] == " ":
                continue  # inside a quotation already blanked
            mark = before[at]
            if mark == "'" and at > 0 and _WORDISH.match(before[at - 1]):
                continue  # an apostrophe, not an opening quote
            closers = _QUOTE_CLOSERS[mark]
            if not any(before.find(closer, at + 1, point) >= 0 for closer in closers):
                return True
        return False

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
            self._prefix += view[:point]
            self._prefix_ends += [end for end in view_ends if end < new_settled]
            self._line_evidence = self._line_evidence.then(_LineEvidence.of(spans[:point], settled))
        else:
            line_code = lines[0][2]
            new_line = settled + last_newline + 1
            if line_code:
                self._prefix = self._prefix[: self._line_start].ljust(settled)
                del self._prefix_ends[bisect.bisect_left(self._prefix_ends, self._line_start) :]
            self._prefix += self._window[: last_newline + 1] + view[last_newline + 1 : point]
            self._prefix_ends += [end for end in self._window_ends if end < new_line]
            self._prefix_ends += [end for end in view_ends if new_line <= end < new_settled]
            self._line_start = new_line
            self._line_evidence = _LineEvidence.of(spans[last_newline + 1 : point], new_line)
        self._settled = new_settled
        self._settled_text = self._text[:new_settled]
        self._window = self._window[point:]
        self._window_ends = [end for end in self._window_ends if end >= new_settled]
        self._line_code = next(code for start, stop, code in lines if start <= new_settled <= stop)


def _outside_code(ends: list[int], lines: list[tuple[int, int, bool]], text: str) -> list[int]:
    """The sentence ends that remain once code lines are blank: line breaks, and ends in prose."""
    if not any(code for _, _, code in lines):
        return ends
    kept: list[int] = []
    for end in ends:
        if end < len(text) and text[end] == "\n":
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
