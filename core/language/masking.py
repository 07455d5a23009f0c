"""Blank out what is not prose (code, URLs, numbers, names, quotes) before judging a language."""

from __future__ import annotations

import re
from collections.abc import Callable

# Each pattern's matches are replaced by spaces of the same length, so positions in the masked
# text are positions in the original: a sentence found in one is the same span in the other.
FENCED_CODE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*(?:`|$)", re.MULTILINE)
SLACK_LINK = re.compile(r"<[^<>\s][^<>]*>")
URL = re.compile(r"(?:https?://|ftp://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_HANDLE = re.compile(r"(?<!\w)[@#][\w.-]+")
# Identifiers and paths: snake_case, dotted.names, a/b/c.py, call(), camelCase, --flags.
_IDENTIFIER = re.compile(
    r"(?<!\w)(?:[\w-]*_[\w-]*|\w+(?:[./\\:]\w+)+|\w+\(\)|[a-z]+[A-Z]\w*|--?[a-z][\w-]*)(?!\w)"
)
_NUMBER = re.compile(r"(?<!\w)[+-]?\d[\d.,:/%°x×-]*\w{0,3}")  # noqa: RUF001
QUOTED = re.compile(
    r"\"[^\"\n]{1,200}\"|“[^”\n]{1,200}”|„[^“”\n]{1,200}[“”]|«[^»\n]{1,200}»|‹[^›\n]{1,200}›"  # noqa: RUF001
    r"|「[^」\n]{1,200}」|『[^』\n]{1,200}』|(?<![\w'’])'[^'\n]{1,200}'(?![\w'])"  # noqa: RUF001
)
# Two or more capitals in a word (API, HTTP, NASA) and capitalized words that do not open a
# sentence (names of people, places, products): they belong to no language in particular.
_ACRONYM = re.compile(r"(?<!\w)[A-Z][A-Z0-9]+s?(?!\w)")
_NAME = re.compile(r"(?<=[\w,;:)\]] )[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*")  # noqa: RUF001
# A line of code outside a fence: many symbols that prose rarely uses.
CODE_SYMBOLS = frozenset("{}[]()<>=;$|\\&*/+")
_CODE_LINE_SHARE = 0.12
_CODE_LINE_ENDINGS = frozenset(";{}")

# The passes of `mask`, each run on the result of the one before: first these, then code lines
# are blanked, then `WORD_PATTERNS`.
SPAN_PATTERNS: tuple[re.Pattern[str], ...] = (
    FENCED_CODE,
    INLINE_CODE,
    SLACK_LINK,
    URL,
    _EMAIL,
    _HANDLE,
    QUOTED,
    _IDENTIFIER,
    _NUMBER,
)
WORD_PATTERNS: tuple[re.Pattern[str], ...] = (_ACRONYM, _NAME)
# The patterns whose matches can end a sentence with their last characters.
_KEEP_TERMINATORS = frozenset({QUOTED, _NUMBER, URL})

# Characters every match of a pattern contains at least one of: a text with none of them is
# left as it is by that pattern (numbers need a decimal digit of any script instead).
_CAPITALS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TRIGGERS: dict[re.Pattern[str], frozenset[str]] = {
    FENCED_CODE: frozenset("`~"),
    INLINE_CODE: frozenset("`"),
    SLACK_LINK: frozenset("<"),
    URL: frozenset("/."),
    _EMAIL: frozenset("@"),
    _HANDLE: frozenset("@#"),
    QUOTED: frozenset("\"“„«‹「『'"),  # noqa: RUF001
    _IDENTIFIER: frozenset("_./\\:(-") | _CAPITALS,
    _ACRONYM: _CAPITALS,
    _NAME: _CAPITALS,
}


_ANY_TRIGGER = frozenset().union(*_TRIGGERS.values())


def may_match(pattern: re.Pattern[str], chars: set[str]) -> bool:
    """Whether `pattern` (one of the masking patterns) can match a text made of `chars`."""
    if pattern is _NUMBER:
        return any(char.isdecimal() for char in chars)
    return not _TRIGGERS[pattern].isdisjoint(chars)


def may_match_any(chars: set[str]) -> bool:
    """Whether any masking pattern can match a text made of `chars`."""
    return not _ANY_TRIGGER.isdisjoint(chars) or any(char.isdecimal() for char in chars)


# What every match of the costliest patterns contains, found by searches that start at a fixed
# character and look back from it (Python's `re` finds a fixed character fast, and tries a
# pattern that starts with a class or a look-behind at every position): most prose has none,
# and the pattern itself need not run. `_IDENTIFIER`: `_`, `()`, a word character on each side
# of `./\:`, a small letter before a capital, or a `-` after no word character.
_DOTTED = re.compile(r"[./\\:](?<=\w[./\\:])\w")
_CAMEL = re.compile(r"[A-Z](?<=[a-z][A-Z])")
_FLAG = re.compile(r"-(?<!\w-)")
# A quotation mark other than the apostrophe, or an apostrophe after no word character.
_OPENING_APOSTROPHE = re.compile("'(?<![\\w'’]')")  # noqa: RUF001
_QUOTATION_MARKS = '"“„«‹「『'  # noqa: RUF001
_TWO_CAPITALS = re.compile(r"[A-Z][A-Z0-9]")
_NAME_START = re.compile(r"[A-Z](?<=[\w,;:)\]] [A-Z])")


def _may_be_identifier(text: str) -> bool:
    return (
        "_" in text
        or "()" in text
        or _DOTTED.search(text) is not None
        or _CAMEL.search(text) is not None
        or _FLAG.search(text) is not None
    )


def _may_be_url(text: str) -> bool:
    return "://" in text or "www." in text.lower()


def _may_be_quoted(text: str) -> bool:
    return (
        any(mark in text for mark in _QUOTATION_MARKS)
        or _OPENING_APOSTROPHE.search(text) is not None
    )


_FOUND_IN: dict[re.Pattern[str], Callable[[str], bool]] = {
    _IDENTIFIER: _may_be_identifier,
    URL: _may_be_url,
    QUOTED: _may_be_quoted,
    _ACRONYM: lambda text: _TWO_CAPITALS.search(text) is not None,
    _NAME: lambda text: _NAME_START.search(text) is not None,
}


def may_match_text(pattern: re.Pattern[str], text: str) -> bool:
    """Whether `pattern` (one of the masking patterns) can match `text`; False is certain."""
    found = _FOUND_IN.get(pattern)
    return found is None or found(text)


# Sentence terminators (those `segments` ends sentences at) and the marks that close a quotation.
_TERMINATORS = frozenset(".!?;…।॥؟۔።。！？；")  # noqa: RUF001
_CLOSING_MARKS = frozenset("\"”“»›」』'")  # noqa: RUF001


def blank(match: re.Match[str]) -> str:
    """The matched text as spaces (newlines stay): the replacement every pass makes.

    Terminators that end a quotation (before its closing mark), a number or a link stay: they
    end the sentence the match closes ("He said "I will come." Then...", "It had 4. Then..."),
    and blanking them would join it to the next one. Code keeps none: its matches may run to
    the end of a line that is still being written.
    """
    text = match.group(0)
    blanked = "".join("\n" if char == "\n" else " " for char in text)
    if match.re not in _KEEP_TERMINATORS:
        return blanked
    end = len(text)
    if text[-1] in _CLOSING_MARKS:
        # French sets its closing guillemet apart: « on arrive ! »
        end = len(text[: end - 1].rstrip())
    start = end
    while start > 0 and text[start - 1] in _TERMINATORS:
        start -= 1
    if start == end or start == 0:
        return blanked
    return blanked[:start] + text[start:end] + blanked[end:]


def looks_like_code(length: int, symbols: int, last: str) -> bool:
    """Whether a line is code: `length` characters from its first to its last visible one,
    `symbols` of them code symbols, ending with `last`."""
    return symbols / length >= _CODE_LINE_SHARE or last in _CODE_LINE_ENDINGS


def _blank_code_lines(text: str) -> str:
    lines = text.split("\n")
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        symbols = sum(1 for char in stripped if char in CODE_SYMBOLS)
        if looks_like_code(len(stripped), symbols, stripped[-1]):
            lines[index] = " " * len(line)
    return "\n".join(lines)


def blank_all(patterns: tuple[re.Pattern[str], ...], text: str) -> str:
    """`text` after blanking the matches of each pattern in turn."""
    for pattern in patterns:
        text = pattern.sub(blank, text)
    return text


def mask(text: str) -> str:
    """`text` with code, URLs, e-mail, handles, identifiers, numbers, quotes and names blanked.

    The result has the same length as `text`; blanked characters become spaces (newlines stay).
    """
    return blank_all(WORD_PATTERNS, _blank_code_lines(blank_all(SPAN_PATTERNS, text)))


def prose(text: str) -> str:
    """The masked text with runs of blanks squeezed: what a detector should read."""
    return " ".join(mask(text).split())


_SPANS_BUT_QUOTES = tuple(pattern for pattern in SPAN_PATTERNS if pattern is not QUOTED)


def prose_with_quotes(text: str) -> str:
    """`prose`, but with quoted text kept: for a message that is mostly a quotation."""
    masked = blank_all(WORD_PATTERNS, _blank_code_lines(blank_all(_SPANS_BUT_QUOTES, text)))
    return " ".join(masked.split())
