"""Where a growing reply's mask can settle: points no masking pattern can reach across.

A point qualifies when it follows a blank, or a full stop of a script written without spaces,
and no match of a masking pattern can span it whatever text follows: no inline code, angle-
bracket link or quotation is open, and no run of capitalized names can continue or start
there. A point right after a line break inside a fenced code block also qualifies: the fence
stays blank up to its closing marks, whatever they are preceded by, so the text after the point
is masked as the rest of a fence that `open_fence` names.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from core.language.masking import FENCED_CODE, INLINE_CODE, QUOTED, SLACK_LINK, SPAN_PATTERNS, URL

# After a blank that no run of capitalized names can cross or start after (the next character
# is not a capital, or the one before the space is neither part of a name nor what a name may
# follow), or after a full stop of a script written without spaces.
_CANDIDATE = re.compile(r" (?=[^A-Z])|(?<![\w'’,;:)\]-]) |[^\S ]|[。！？；]")  # noqa: RUF001
_UNSPACED_STOPS = frozenset("。！？；")  # noqa: RUF001
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
# How many candidate points to try per update, latest first, and how far from the end of the
# text they are looked for first.
_TRIES = 4
_NEAR_END = 64
# `stages[i]` is the text `SPAN_PATTERNS[i]` reads: stage 1 has fences blanked.
_AFTER_FENCES = SPAN_PATTERNS.index(FENCED_CODE) + 1
_BEFORE_LINKS = SPAN_PATTERNS.index(SLACK_LINK)
_BEFORE_QUOTES = SPAN_PATTERNS.index(QUOTED)
assert SPAN_PATTERNS.index(INLINE_CODE) == _AFTER_FENCES
_FENCE_MARK_LENGTH = 3


class Fence(NamedTuple):
    """A fenced code block in a stretch of text: `text[start:end]`, opened with `marks`."""

    start: int
    end: int
    marks: str
    closed: bool


def fences(text: str, open_fence: str | None) -> list[Fence]:
    """The fences of `text`, which starts inside a fence opened with `open_fence` if given."""
    found: list[Fence] = []
    resume = 0
    if open_fence is not None:
        close = text.find(open_fence)
        if close < 0:
            return [Fence(0, len(text), open_fence, closed=False)]
        resume = close + _FENCE_MARK_LENGTH
        found.append(Fence(0, resume, open_fence, closed=True))
    for match in FENCED_CODE.finditer(text, resume):
        body = match.group(0)
        marks = body[:_FENCE_MARK_LENGTH]
        closed = len(body) >= 2 * _FENCE_MARK_LENGTH and body.endswith(marks)
        found.append(Fence(match.start(), match.end(), marks, closed))
    return found


def blank_fences(text: str, found: list[Fence]) -> str:
    """`text` with its fences blanked (line breaks stay), as `FENCED_CODE` leaves it."""
    if not found:
        return text
    pieces: list[str] = []
    done = 0
    for fence in found:
        pieces.append(text[done : fence.start])
        pieces.append(
            "\n".join(" " * len(line) for line in text[fence.start : fence.end].split("\n"))
        )
        done = fence.end
    pieces.append(text[done:])
    return "".join(pieces)


def candidates(text: str) -> list[int]:
    """The latest points of `text` worth trying, latest first."""
    # They are near the end: look there first, and at the whole text only when that is short
    # of points (the look-behinds still see the characters before where the search starts).
    start = max(len(text) - _NEAR_END, 0)
    while True:
        points = [match.end() for match in _CANDIDATE.finditer(text, start)]
        if len(points) >= _TRIES or not start:
            return points[: -_TRIES - 1 : -1]
        start = 0


def open_fence(point: int, found: list[Fence]) -> str | None:
    """The marks of the fence still open at `point`, if any."""
    for fence in found:
        if fence.start < point and (fence.end > point or not fence.closed):
            return fence.marks
    return None


def can_settle(point: int, text: str, stages: list[str], found: list[Fence]) -> bool:
    """Whether no masking pattern can reach across `point` in `text`, whatever follows it.

    `text` starts at a settled point; `stages` are its texts as each of `SPAN_PATTERNS` reads
    them, and `found` its fences.
    """
    line = text.rfind("\n", 0, point) + 1
    if text[point - 1] in _UNSPACED_STOPS and URL.search(text[:point].rsplit(maxsplit=1)[-1]):
        return False  # a link could go on past the full stop
    if open_fence(point, found) is not None and line != point:
        return False  # inside a fence, only a line break is a place to settle
    if stages[_AFTER_FENCES].count("`", line, point) % 2:
        return False  # inline code still open
    links = stages[_BEFORE_LINKS]
    opening = max(links.rfind("<", 0, point), links.rfind(">", 0, point))
    if opening >= 0 and links[opening] == "<":
        following = links[opening + 1]
        if following not in "<>" and not following.isspace():
            return False  # an angle-bracket link still open
    return not _quotation_open(point, line, stages)


def _quotation_open(point: int, line: int, stages: list[str]) -> bool:
    before, after = stages[_BEFORE_QUOTES], stages[_BEFORE_QUOTES + 1]
    if _QUOTE_OPENER.search(before, line, point) is None:
        return False  # every quotation starts with an opening mark: none on the line before it
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
            return True  # an opening mark that a later one may still close
    return False
