"""Split a growing reply into sentences, knowing which ones are finished."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Terminators that end a sentence only once whitespace follows (the text may still grow: "3."
# could become "3.14", "e." could become "e.g.").
_SPACED_END = re.compile(r"[.!?;…।॥؟۔።](?:[\"'”’»)\]]*)(?=\s)")  # noqa: RUF001
# Terminators of scripts written without spaces: the sentence is over at once.
_UNSPACED_END = re.compile(r"[。！？；](?:[」』”’）]*)")  # noqa: RUF001
_PARAGRAPH = re.compile(r"\n")


@dataclass(frozen=True)
class Segment:
    """A sentence of the reply: `text[start:end]`; `complete` once its end is certain."""

    start: int
    end: int
    complete: bool


def segments(masked: str, *, final: bool) -> list[Segment]:
    """The sentences of `masked` (a masked reply) in order.

    The last sentence is incomplete unless `final` (generation ended) or it ends with a
    terminator that cannot grow. Blank stretches between sentences belong to no segment.
    """
    ends = sorted(
        {match.end() for match in _SPACED_END.finditer(masked)}
        | {match.end() for match in _UNSPACED_END.finditer(masked)}
        | {match.start() for match in _PARAGRAPH.finditer(masked)}
    )
    found: list[Segment] = []
    start = 0
    for end in ends:
        if end <= start:
            continue
        _append(found, masked, start, end, complete=True)
        start = end
    if start < len(masked):
        _append(found, masked, start, len(masked), complete=final)
    return found


def _append(found: list[Segment], masked: str, start: int, end: int, *, complete: bool) -> None:
    # Trim blanks so a segment starts at its first visible character and ends at its last.
    while start < end and masked[start].isspace():
        start += 1
    while end > start and masked[end - 1].isspace():
        end -= 1
    if start < end:
        found.append(Segment(start, end, complete))
