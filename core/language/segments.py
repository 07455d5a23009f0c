"""Split a growing reply into sentences, knowing which ones are finished."""

from __future__ import annotations

import re
from collections.abc import Iterable
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


def sentence_ends(masked: str) -> list[int]:
    """The positions in `masked` (a masked reply) where a sentence ends, in order."""
    return sorted(
        {match.end() for match in _SPACED_END.finditer(masked)}
        | {match.end() for match in _UNSPACED_END.finditer(masked)}
        | {match.start() for match in _PARAGRAPH.finditer(masked)}
    )


def segments(masked: str, *, final: bool) -> list[Segment]:
    """The sentences of `masked` (a masked reply) in order.

    The last sentence is incomplete unless `final` (generation ended) or it ends with a
    terminator that cannot grow. Blank stretches between sentences belong to no segment.
    """
    return split(masked, 0, sentence_ends(masked), final=final)


def split(masked: str, offset: int, ends: Iterable[int], *, final: bool) -> list[Segment]:
    """The sentences of a masked stretch starting at `offset` in its reply, cut at `ends`.

    `ends` are positions in the reply, in order; the stretch must start at a sentence end (or
    at 0) and reach the end of the reply.
    """
    found: list[Segment] = []
    start = offset
    stop = offset + len(masked)
    for end in ends:
        if end <= start:
            continue
        _append(found, masked, offset, start, end, complete=True)
        start = end
    if start < stop:
        _append(found, masked, offset, start, stop, complete=final)
    return found


def _append(
    found: list[Segment], masked: str, offset: int, start: int, end: int, *, complete: bool
) -> None:
    # Trim blanks so a segment starts at its first visible character and ends at its last.
    piece = masked[start - offset : end - offset]
    stripped = piece.strip()
    if stripped:
        start += len(piece) - len(piece.lstrip())
        end -= len(piece) - len(piece.rstrip())
        found.append(Segment(start, end, complete))
