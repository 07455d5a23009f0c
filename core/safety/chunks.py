"""Where a growing reply may be checked: after a sentence or line, or every N characters.

A checkpoint never splits a word, and never falls inside a run of spaced-out single letters
("f u c k"), so the word lists always see whole words and the guard model whole sentences.
"""

from __future__ import annotations

import re

# The end of a sentence or line: terminal punctuation followed by a space, or a line break.
# CJK full stops need no space after them.
_SENTENCE_END = re.compile(r"[.!?…](?=\s)|[\u3002\uff01\uff1f]|\n")
_SPACE = re.compile(r"\s")
# One letter standing alone, then a separator: the pieces of a spaced-out word.
_SPACED_LETTERS = re.compile(r"(?:(?<![^\W_])[^\W\d_][\s._*\-]+){2,}[^\W\d_]?$")


def _retreat_from_spaced_letters(text: str, end: int) -> int:
    """Move `end` back to before a trailing run of single letters that may spell a word."""
    match = _SPACED_LETTERS.search(text[:end])
    return match.start() if match else end


def next_checkpoint(text: str, after: int, chunk_chars: int) -> int | None:
    """The furthest point past `after` where `text` may be checked now, or None to wait.

    A sentence or line end qualifies at once; failing that, a word boundary once `chunk_chars`
    characters have accumulated (text without spaces, such as Chinese, is checked as it is).
    """
    end: int | None = None
    for match in _SENTENCE_END.finditer(text, after):
        end = match.end()
    if end is None and len(text) - after >= chunk_chars:
        spaces = [m.start() for m in _SPACE.finditer(text, after)]
        end = spaces[-1] if spaces else len(text)
    if end is None:
        return None
    end = _retreat_from_spaced_letters(text, end)
    return end if end > after else None
