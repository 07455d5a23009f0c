"""Split a long Markdown reply into messages within a platform's length limit, keeping fences whole.

Cuts prefer, in order: a paragraph break, the edge of a code block, a line break, a space;
a hard cut is the last resort. A cut inside a fenced code block closes the fence at the end
of the message and reopens it (with its language) at the start of the next one, so each
message renders as code on its own. Lengths are counted in the platform's unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adapters.capabilities import LengthUnit

# An opening or closing fence line: up to three spaces, then ``` or ~~~ (three or more).
_FENCE_LINE = re.compile(r"^ {0,3}(?P<marker>`{3,}|~{3,})(?P<info>.*)$")

# Boundary kinds, best first.
_PARAGRAPH, _BLOCK_EDGE, _LINE, _WORD = range(4)


@dataclass(frozen=True)
class _Fence:
    """An open fenced code block: the line that opened it and the marker that closes it."""

    opener: str
    closer: str


@dataclass(frozen=True)
class _Boundary:
    """A place to cut: this part keeps text[:end], the next part starts at text[start:]."""

    end: int
    start: int
    kind: int
    fence: _Fence | None


def _fence_transition(line: str, fence: _Fence | None) -> tuple[_Fence | None, bool]:
    """The fence state after `line`, and whether the line closed a fence."""
    match = _FENCE_LINE.match(line)
    if match is None:
        return fence, False
    marker = match["marker"]
    if fence is None:
        # A backtick fence's info string may not contain backticks (CommonMark).
        if marker[0] == "`" and "`" in match["info"]:
            return None, False
        return _Fence(opener=line.strip(), closer=marker), False
    closes = (
        marker[0] == fence.closer[0]
        and len(marker) >= len(fence.closer)
        and not match["info"].strip()
    )
    return (None, True) if closes else (fence, False)


def _boundaries(text: str) -> tuple[list[_Boundary], list[_Fence | None]]:
    """Every candidate cut in `text`, and the open fence at the start of each line."""
    found: list[_Boundary] = []
    line_fences: list[_Fence | None] = []
    fence: _Fence | None = None
    previous_blank = False
    previous_closed = False
    first_code_line = -1  # start of the first line inside the open fence
    position = 0
    for line in text.split("\n"):
        line_start = position
        line_fences.append(fence)
        if line_start > 0:
            if fence is None:
                end = len(text[:line_start].rstrip())
                if previous_blank:
                    kind = _PARAGRAPH
                elif previous_closed or _fence_transition(line, None)[0] is not None:
                    kind = _BLOCK_EDGE
                else:
                    kind = _LINE
                found.append(_Boundary(end, line_start, kind, None))
            elif line_start != first_code_line:
                # Inside a fence, a part must keep at least one line of code.
                found.append(_Boundary(line_start - 1, line_start, _LINE, fence))
        for match in re.finditer(r" +", line):
            if match.start() > 0 and match.end() < len(line):
                found.append(
                    _Boundary(line_start + match.start(), line_start + match.end(), _WORD, fence)
                )
        before = fence
        fence, closed = _fence_transition(line, fence)
        if before is None and fence is not None:
            # Cuts inside the opening line itself would break the fence: drop them.
            found = [b for b in found if b.start <= line_start]
            first_code_line = line_start + len(line) + 1
        previous_blank = fence is None and not line.strip()
        previous_closed = closed
        position = line_start + len(line) + 1
    return found, line_fences


def _line_fence_at(text: str, index: int, line_fences: list[_Fence | None]) -> _Fence | None:
    return line_fences[text.count("\n", 0, index)]


def _cut(text: str, limit: int, unit: LengthUnit, keep: int) -> tuple[str, str, str]:
    """Split `text` (longer than `limit`) into a first part, the rest, and a prefix for the rest.

    `keep` is how many leading characters are a reopened fence: a cut must lie beyond them.
    """
    units = [0]
    for char in text:
        units.append(units[-1] + unit.char_units(char))
        if units[-1] > limit:
            break
    window = text[: len(units)]  # every character that could end the first part, plus one
    boundaries, line_fences = _boundaries(window)

    def cost(boundary: _Boundary) -> int:
        closing = unit.measure("\n" + boundary.fence.closer) if boundary.fence else 0
        return units[boundary.end] + closing

    fitting = [b for b in boundaries if b.end > keep and b.end < len(units) and cost(b) <= limit]
    chosen: _Boundary | None = None
    for kind in (_PARAGRAPH, _BLOCK_EDGE, _LINE, _WORD):
        of_kind = [b for b in fitting if b.kind == kind]
        if of_kind and units[of_kind[-1].end] * 2 >= limit:
            chosen = of_kind[-1]
            break
    if chosen is None and fitting:
        chosen = max(fitting, key=lambda b: b.end)
    if chosen is None:
        chosen = _hard_cut(window, units, limit, unit, keep, line_fences)
    part = text[: chosen.end]
    rest = text[chosen.start :]
    if chosen.fence is None:
        return part.rstrip(), rest.lstrip("\n"), ""
    return part + "\n" + chosen.fence.closer, rest, chosen.fence.opener + "\n"


def _hard_cut(
    window: str,
    units: list[int],
    limit: int,
    unit: LengthUnit,
    keep: int,
    line_fences: list[_Fence | None],
) -> _Boundary:
    """Cut at the last character that fits (closing an open fence if there is room for it)."""
    for end in range(len(units) - 1, keep, -1):
        fence = _line_fence_at(window, end, line_fences)
        closing = unit.measure("\n" + fence.closer) if fence else 0
        if units[end] + closing <= limit:
            return _Boundary(end, end, _WORD, fence)
    # Not even one character fits beside the reopened fence: give the fence up.
    return _Boundary(max(keep, 1), max(keep, 1), _WORD, None)


def split_markdown(text: str, limit: int, unit: LengthUnit = LengthUnit.CODEPOINTS) -> list[str]:
    """`text` as messages of at most `limit` units each; whitespace-only text gives no message."""
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text.strip("\n")
    prefix = ""
    while rest.strip():
        candidate = prefix + rest
        if unit.measure(candidate) <= limit:
            parts.append(candidate.rstrip())
            break
        # A reopened fence needs room for its opener, one character and its closer.
        keep = len(prefix) if unit.measure(prefix) * 2 < limit else 0
        if keep == 0:
            candidate = rest
        part, rest, prefix = _cut(candidate, limit, unit, keep)
        if part.strip():
            parts.append(part)
    return parts
