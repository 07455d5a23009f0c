"""Which lines of a reply are prose: code, table rows and list items are told apart as they grow."""

from __future__ import annotations

import re

# Lines that are not prose (each pattern is matched at the start of a line).
_FENCE = re.compile(r"\s*(```|~~~)")
_LIST_ITEM = re.compile(r"\s*(?:[-*+\u2022]|\d{1,3}[.)]|[A-Za-z][.)])\s+")
_INDENTED_CODE = re.compile(r"(?: {4}|\t)")
# Once this many characters follow a line's first visible one, the patterns above are decided.
_PREFIX_DECIDED = 6
# What `str.splitlines` splits on.
LINE_BREAK = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_VISIBLE = re.compile(r"\S")


def is_fence(text: str, start: int, end: int) -> bool:
    """Whether the line `text[start:end]` opens or closes a fenced code block."""
    return _FENCE.match(text, start, end) is not None


class LineKind:
    """What is known of the kind of one line as it grows: each character is looked at once."""

    __slots__ = ("pipes", "prefix", "seen", "start", "visible")

    def __init__(self, start: int) -> None:
        self.start = start
        self.seen = start  # how far the line was looked at for its kind
        self.visible: int | None = None  # its first non-space character
        self.pipes = 0
        self.prefix: bool | None = None  # decided: starts as a fence, list item or code

    def excluded(self, text: str, stop: int) -> bool:
        """Whether the line up to `stop` is a table row or starts as a fence, list item or code
        (once so, always so)."""
        self._look(text, stop)
        visible = self.visible
        if visible is None:
            return False
        if self.pipes >= 2 or text[visible] == "|":
            return True
        if self.prefix is not None:
            return self.prefix
        start = self.start
        prefix = (
            _FENCE.match(text, start, stop) is not None
            or _LIST_ITEM.match(text, start, stop) is not None
            or _INDENTED_CODE.match(text, start, stop) is not None
        )
        if stop - visible >= _PREFIX_DECIDED:
            self.prefix = prefix
        return prefix

    def _look(self, text: str, stop: int) -> None:
        seen = self.seen
        if seen < stop:
            self.pipes += text.count("|", seen, stop)
            if self.visible is None:
                visible = _VISIBLE.search(text, seen, stop)
                self.visible = None if visible is None else visible.start()
            self.seen = stop
