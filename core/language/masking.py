"""Blank out what is not prose (code, URLs, numbers, names, quotes) before judging a language."""

from __future__ import annotations

import re

# Each pattern's matches are replaced by spaces of the same length, so positions in the masked
# text are positions in the original: a sentence found in one is the same span in the other.
_FENCED_CODE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*(?:`|$)", re.MULTILINE)
_SLACK_LINK = re.compile(r"<[^<>\s][^<>]*>")
_URL = re.compile(r"(?:https?://|ftp://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_HANDLE = re.compile(r"(?<!\w)[@#][\w.-]+")
# Identifiers and paths: snake_case, dotted.names, a/b/c.py, call(), camelCase, --flags.
_IDENTIFIER = re.compile(
    r"(?<!\w)(?:[\w-]*_[\w-]*|\w+(?:[./\\:]\w+)+|\w+\(\)|[a-z]+[A-Z]\w*|--?[a-z][\w-]*)(?!\w)"
)
_NUMBER = re.compile(r"(?<!\w)[+-]?\d[\d.,:/%°x×-]*\w{0,3}")  # noqa: RUF001
_QUOTED = re.compile(
    r"\"[^\"\n]{1,200}\"|“[^”\n]{1,200}”|„[^“”\n]{1,200}[“”]|«[^»\n]{1,200}»|‹[^›\n]{1,200}›"  # noqa: RUF001
    r"|「[^」\n]{1,200}」|『[^』\n]{1,200}』|(?<![\w'’])'[^'\n]{1,200}'(?![\w'])"  # noqa: RUF001
)
# Two or more capitals in a word (API, HTTP, NASA) and capitalized words that do not open a
# sentence (names of people, places, products): they belong to no language in particular.
_ACRONYM = re.compile(r"(?<!\w)[A-Z][A-Z0-9]+s?(?!\w)")
_NAME = re.compile(r"(?<=[\w,;:)\]] )[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*")  # noqa: RUF001
# A line of code outside a fence: many symbols that prose rarely uses.
_CODE_SYMBOLS = frozenset("{}[]()<>=;$|\\&*/+")
_CODE_LINE_SHARE = 0.12


def _blank(match: re.Match[str]) -> str:
    return "".join("\n" if char == "\n" else " " for char in match.group(0))


def _blank_code_lines(text: str) -> str:
    lines = text.split("\n")
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        symbols = sum(1 for char in stripped if char in _CODE_SYMBOLS)
        if symbols / len(stripped) >= _CODE_LINE_SHARE or stripped.endswith((";", "{", "}")):
            lines[index] = " " * len(line)
    return "\n".join(lines)


def mask(text: str) -> str:
    """`text` with code, URLs, e-mail, handles, identifiers, numbers, quotes and names blanked.

    The result has the same length as `text`; blanked characters become spaces (newlines stay).
    """
    masked = _FENCED_CODE.sub(_blank, text)
    masked = _INLINE_CODE.sub(_blank, masked)
    for pattern in (_SLACK_LINK, _URL, _EMAIL, _HANDLE, _QUOTED, _IDENTIFIER, _NUMBER):
        masked = pattern.sub(_blank, masked)
    masked = _blank_code_lines(masked)
    masked = _ACRONYM.sub(_blank, masked)
    return _NAME.sub(_blank, masked)


def prose(text: str) -> str:
    """The masked text with runs of blanks squeezed: what a detector should read."""
    return " ".join(mask(text).split())
