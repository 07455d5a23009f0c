"""The settled part of a reply's mask, kept in pieces so that it grows without copying."""

from __future__ import annotations

import bisect
import re

_VISIBLE = re.compile(r"\S")


class SettledMask:
    """A string built by appending pieces, readable by position.

    Characters before a point may be forgotten (`forget`): positions stay those of the whole
    string, and a forgotten character reads as a blank, so the memory held is that of the
    characters still to be read, not of everything appended.
    """

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._starts: list[int] = []
        self.length = 0

    @property
    def start(self) -> int:
        """Where the characters still held begin (0 until something was forgotten)."""
        return self._starts[0] if self._starts else self.length

    def append(self, piece: str) -> None:
        """Add `piece` at the end."""
        if piece:
            self._pieces.append(piece)
            self._starts.append(self.length)
            self.length += len(piece)

    def forget(self, before: int) -> None:
        """Let go of the characters before `before` (the last character is always kept)."""
        before = min(before, self.length - 1)
        index = bisect.bisect_right(self._starts, before) - 1
        if index < 0 or before <= self._starts[0]:
            return
        start = self._starts[index]
        # The piece holding `before` loses its head too: a piece joined by `slice` may reach
        # far back.
        self._pieces[index] = self._pieces[index][before - start :]
        self._starts[index] = before
        del self._pieces[:index], self._starts[:index]

    def truncate(self, length: int) -> None:
        """Keep only the first `length` characters (forgotten ones stay forgotten)."""
        length = max(length, self.start)
        index = bisect.bisect_right(self._starts, length) - 1
        if index < 0:
            return
        start = self._starts[index]
        kept = self._pieces[index][: length - start]
        del self._pieces[index:], self._starts[index:]
        self.length = start
        self.append(kept)
        if not self._pieces:
            self.length = length  # everything was forgotten: the next piece goes on from here

    def slice(self, start: int, end: int) -> str:
        """The characters from `start` to `end`; forgotten ones as blanks."""
        end = min(end, self.length)
        if start >= end:
            return ""
        held = self.start
        if start < held:
            return " " * (min(end, held) - start) + self.slice(held, end)
        first = bisect.bisect_right(self._starts, start) - 1
        last = bisect.bisect_left(self._starts, end, first)
        if last - first > 1:
            # Join the pieces read: the same stretch (the sentence being written) is read
            # again after every token, and should cost one slice next time.
            self._pieces[first:last] = ["".join(self._pieces[first:last])]
            del self._starts[first + 1 : last]
        offset = self._starts[first]
        return self._pieces[first][start - offset : end - offset]

    def visible(self, start: int, end: int) -> int | None:
        """The position of the first non-blank character from `start` up to `end`, if any."""
        end = min(end, self.length)
        index = max(bisect.bisect_right(self._starts, start) - 1, 0)
        while index < len(self._pieces) and self._starts[index] < end:
            offset = self._starts[index]
            found = _VISIBLE.search(self._pieces[index], max(start - offset, 0), end - offset)
            if found:
                return found.start() + offset
            index += 1
        return None

    def last(self) -> str:
        """The last character, or "" when empty."""
        return self._pieces[-1][-1] if self._pieces else ""

    def held(self) -> int:
        """How many characters are held (appended and not forgotten)."""
        return self.length - self.start
