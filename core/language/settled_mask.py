"""The settled part of a reply's mask, kept in pieces so that it grows without copying."""

from __future__ import annotations

import bisect
import re

_VISIBLE = re.compile(r"\S")


class SettledMask:
    """A string built by appending pieces, readable by position."""

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._starts: list[int] = []
        self.length = 0

    def append(self, piece: str) -> None:
        """Add `piece` at the end."""
        if piece:
            self._pieces.append(piece)
            self._starts.append(self.length)
            self.length += len(piece)

    def truncate(self, length: int) -> None:
        """Keep only the first `length` characters."""
        index = bisect.bisect_right(self._starts, length) - 1
        if index < 0:
            return
        start = self._starts[index]
        kept = self._pieces[index][: length - start]
        del self._pieces[index:], self._starts[index:]
        self.length = start
        self.append(kept)

    def slice(self, start: int, end: int) -> str:
        """The characters from `start` to `end`."""
        end = min(end, self.length)
        if start >= end:
            return ""
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
