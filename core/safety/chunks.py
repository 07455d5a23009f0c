"""Where a growing reply may be checked: after a sentence or line, or every N characters.

A checkpoint never splits a word, and never falls inside a run of spaced-out single letters
("f u c k"), so the word lists always see whole words and the guard model whole sentences.
`CheckpointFinder` follows one streamed reply, reading each new character about once.
"""

from __future__ import annotations

import re

# The end of a sentence or line: Latin terminal punctuation followed by a space, or a line
# break. The other scripts of BLOOM's languages end sentences with marks of their own, which
# need no space after them: the danda and double danda of Devanagari, Bengali and Gurmukhi
# (U+0964, U+0965), the Arabic question mark, comma and semicolon (U+061F, U+060C, U+061B),
# the Urdu full stop (U+06D4) and the CJK full stop, exclamation and question marks (U+3002,
# U+FF01, U+FF1F; half-width U+FF61 and full-width U+FF0E).
_SENTENCE_END = re.compile(
    r"[.!?…](?=\s)|[\u0964\u0965\u061f\u060c\u061b\u06d4\u3002\uff01\uff1f\uff0e\uff61]|\n"
)
# One letter standing alone, then a separator: the pieces of a spaced-out word.
_SPACED_LETTERS = re.compile(r"(?:(?<![^\W_])[^\W\d_][\s._*\-]+){2,}[^\W\d_]?$")
_SPACED_SEPARATORS = frozenset("._*-")


def _may_be_spaced_out(text: str, index: int) -> bool:
    """Whether `text[index]` can belong to a run of spaced-out letters."""
    char = text[index]
    if char.isspace() or char in _SPACED_SEPARATORS:
        return True
    # A letter of such a run stands alone: no letter or digit right before it.
    return char.isalnum() and not char.isdecimal() and (index == 0 or not text[index - 1].isalnum())


def _retreat_from_spaced_letters(text: str, end: int) -> int:
    """Move `end` back to before a trailing run of single letters that may spell a word."""
    # Such a run ends at `end` and holds only separators and lone letters: search just there.
    start = end
    while start > 0 and _may_be_spaced_out(text, start - 1):
        start -= 1
    match = _SPACED_LETTERS.search(text, start, end)
    return match.start() if match else end


def next_checkpoint(text: str, after: int, chunk_chars: int) -> int | None:
    """The furthest point past `after` where `text` may be checked now, or None to wait.

    A sentence or line end qualifies at once; failing that, a word boundary once `chunk_chars`
    characters have accumulated (text without spaces, such as Chinese, is checked as it is).
    """
    return CheckpointFinder(chunk_chars).next(text, after)


class CheckpointFinder:
    """`next_checkpoint` for one streamed reply, remembering what it found in earlier calls."""

    def __init__(self, chunk_chars: int) -> None:
        self.chunk_chars = chunk_chars
        self._text = ""
        self._after = 0
        self._scanned = 0  # self._text[self._after:self._scanned] was looked at
        self._sentence_end: int | None = None  # the last one found there
        self._space: int | None = None  # the start of the last whitespace found there

    def next(self, text: str, after: int) -> int | None:
        """The furthest checkpoint past `after` in `text`, or None to wait."""
        if after != self._after or not text.startswith(self._text):
            self._after = after
            self._scanned = after
            self._sentence_end = None
            self._space = None
        # A full stop read last time at the very end ends a sentence if a space follows now.
        for match in _SENTENCE_END.finditer(text, max(after, self._scanned - 1)):
            self._sentence_end = match.end()
        for index in range(len(text) - 1, self._scanned - 1, -1):
            if text[index].isspace():
                self._space = index
                break
        self._text = text
        self._scanned = max(self._scanned, len(text))
        end = self._sentence_end
        if end is None and len(text) - after >= self.chunk_chars:
            end = len(text) if self._space is None else self._space
        if end is None:
            return None
        end = _retreat_from_spaced_letters(text, end)
        return end if end > after else None


def judging_windows(text: str, size: int, overlap: int) -> list[str]:
    """`text` as pieces of at most `size` characters that together cover all of it.

    Each piece ends at the last sentence end in the second half of its reach, or else at the
    last space, and the
    next one starts `overlap` characters earlier (at a space when there is one), so a phrase
    cut at a boundary is still seen whole in one piece. A text that fits is one piece.
    """
    if size <= overlap:
        raise ValueError("a judging window must be longer than its overlap")
    windows: list[str] = []
    start = 0
    while len(text) - start > size:
        limit = start + size
        ends = [match.end() for match in _SENTENCE_END.finditer(text, start, limit)]
        end = ends[-1] if ends and ends[-1] > start + size // 2 else text.rfind(" ", start, limit)
        if end <= start + overlap:
            end = limit  # no boundary in reach: cut inside a word
        windows.append(text[start:end])
        back = end - overlap
        space = text.find(" ", back, end)
        start = space + 1 if space != -1 else back
    windows.append(text[start:])
    return windows
