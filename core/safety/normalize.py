"""Text normalisation for word-list matching: case, accents, leetspeak, invisible and wide forms.

`word_tokens` turns text into the tokens the word lists are matched against. Each token is a
tuple of spellings (a "1" may stand for "i" or "l"), so "Sh1t", full-width "shit", "s h i t" and
"sh\u200bit" all yield the spelling "shit". Scripts written without spaces (Chinese, Japanese,
Thai) yield one token per character, so list entries match as substrings there.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

# Invisible characters used to split words without changing how they look.
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u00ad\u034f\u061c\u115f\u1160\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff",
    ),
    None,
)
# Arabic short vowels, shadda, sukun and the elongating tatweel change no word's identity.
_ARABIC_MARKS = dict.fromkeys([*range(0x064B, 0x0660), 0x0670, 0x0640], None)
# Leetspeak: symbols and digits standing for letters inside a word.
_LEET = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a", "$": "s"}
# Characters that may stand for "i" or "l".
_I_OR_L = "1!|"
_LEET_SYMBOLS = frozenset("@$!|")
# Cyrillic and Greek letters that look like Latin ones, used to disguise Latin words.
_HOMOGLYPHS = str.maketrans(
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u0501\u0261\u03bf\u03b1\u03bd",
    "aeopcyxijsdgoav",
)
# A run of at least this many one-letter tokens is read as one spaced-out word ("f u c k").
_SPACED_RUN = 3
# The word characters of ASCII text (letters, digits and the leetspeak symbols), and an opening
# double quote (one that does not follow a word character).
_ASCII_WORD = re.compile(r'[A-Za-z0-9@$!|]+|(?<![A-Za-z0-9@$!|])"')
# Opening quotation marks become the token QUOTE: a word right after one is quoted, not used.
QUOTE = '"'
_QUOTES = frozenset('"\u201c\u201d\u201e\u201f\u00ab\u00bb\u300c\u300e\uff02')
# Characters after which normalisation and splitting start afresh: a text may be tokenised in
# parts cut after them (none composes with what follows, and none is a word character).
_RESTART_AFTER = (" ", "\n", "\t", "\u3000", "\u3001", "\u3002", "\uff0c")


def _is_unspaced_script(char: str) -> bool:
    """Han, kana, Hangul syllables and Thai: written without spaces between words."""
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x2FFFF
        or 0x0E00 <= code <= 0x0E7F
    )


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LMN" or char in _LEET_SYMBOLS


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """A Latin letter without its accents ("é" -> "e"); other scripts keep their marks."""
    decomposed = unicodedata.normalize("NFKD", char)
    base = decomposed[0]
    if base.isascii() or "\u00c0" <= base <= "\u024f":
        return "".join(c for c in decomposed if not unicodedata.combining(c))
    return char


def normalize(text: str, *, fold_accents: bool = True) -> str:
    """Wide forms and ligatures unified (NFKC), invisible characters removed, case folded."""
    if text.isascii():
        return text.lower()  # what every step below leaves of ASCII text, at a fraction of the cost
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).translate(_ARABIC_MARKS)
    text = text.casefold()
    if fold_accents and not text.isascii():
        text = "".join(_fold_char(char) if not char.isascii() else char for char in text)
    return unicodedata.normalize("NFC", text)


def _split(text: str) -> list[str]:
    """Raw tokens: runs of word characters; unspaced scripts one character each; opening quotes."""
    if text.isascii():
        return _ASCII_WORD.findall(text)
    tokens: list[str] = []
    current: list[str] = []
    previous = ""
    for char in text:
        # After a letter of a spaced script a quote mark is part of a disguise ("f"u"c"k");
        # after Han, kana or Thai (each character a token) it opens a quotation.
        opens_quote = char in _QUOTES and not (
            previous and _is_word_char(previous) and not _is_unspaced_script(previous)
        )
        previous = char
        if opens_quote:
            if current:
                tokens.append("".join(current))
                current = []
            tokens.append(QUOTE)
        elif _is_unspaced_script(char):
            if current:
                tokens.append("".join(current))
                current = []
            tokens.append(char)
        elif _is_word_char(char):
            current.append(char)
        elif current:
            tokens.append("".join(current))
            current = []
    if current:
        tokens.append("".join(current))
    return tokens


def _trim(token: str) -> str:
    # "!" and "|" end sentences and separate words more often than they spell a letter.
    return token.strip("!|")


def _spellings(token: str) -> tuple[str, ...]:
    """The ways to read a token: leetspeak decoded, look-alike letters made Latin."""
    has_letter = any(c.isalpha() for c in token)
    if not has_letter:
        return (token,)
    if any(c.isascii() and c.isalpha() for c in token):
        token = token.translate(_HOMOGLYPHS)
    if not any(c in _LEET or c in _I_OR_L for c in token):
        return (token,)
    decoded = "".join(_LEET.get(c, c) for c in token)
    if not any(c in _I_OR_L for c in decoded):
        return (decoded,)
    as_i = "".join("i" if c in _I_OR_L else c for c in decoded)
    as_l = "".join("l" if c in _I_OR_L else c for c in decoded)
    return (as_i, as_l)


def _is_spaced_letter(token: str) -> bool:
    return (
        len(token) == 1
        and not _is_unspaced_script(token)
        and (token.isalpha() or token in _LEET or token in _I_OR_L)
    )


def _flush_letters(run: list[str], merged: list[tuple[str, ...]]) -> None:
    """Join a run of single letters ("f u c k", "f.u.c.k") into the word they spell.

    A real one-letter word may sit at either end of the run ("a f u c k"), so the joined run
    is also offered without its first and last letter.
    """
    # Digits may stand for letters ("f 4 g"), but a run of digits is just numbers.
    if len(run) >= _SPACED_RUN and sum(letter.isalpha() for letter in run) >= 2:
        joined = "".join(run)
        trims = (joined[1:], joined[:-1], joined[1:-1]) if len(run) > _SPACED_RUN else ()
        merged.append(tuple(dict.fromkeys((joined, *trims))))
    else:
        merged.extend((letter,) for letter in run)


def _merge(tokens: Iterable[str], letters: list[str], merged: list[tuple[str, ...]]) -> list[str]:
    """Add `tokens` to `merged`, gathering single letters; returns the run still open."""
    for token in tokens:
        if _is_spaced_letter(token):
            letters.append(token)
        else:
            _flush_letters(letters, merged)
            letters = []
            merged.append((token,))
    return letters


def _raw_tokens(text: str, fold_accents: bool) -> list[str]:
    tokens = (_trim(token) for token in _split(normalize(text, fold_accents=fold_accents)))
    return [token for token in tokens if token]


# A streamed text is settled a word at a time, and words recur: parts up to this long are
# tokenised once per process.
_CACHED_PART = 48


@lru_cache(maxsize=16384)
def _cached_raw_tokens(part: str, fold_accents: bool) -> tuple[str, ...]:
    return tuple(_raw_tokens(part, fold_accents))


def _part_tokens(part: str, fold_accents: bool) -> Sequence[str]:
    if len(part) <= _CACHED_PART:
        return _cached_raw_tokens(part, fold_accents)
    return _raw_tokens(part, fold_accents)


@lru_cache(maxsize=16384)
def _spelled_forms(forms: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for form in forms for s in _spellings(form)))


def _spelled(merged: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    return [_spelled_forms(forms) for forms in merged]


# Where tokenising may stop and resume: after a character of `_RESTART_AFTER`, or after a
# Han ideograph (a token of its own, and nothing after it composes with it).
_RESTART = re.compile(
    "[" + "".join(_RESTART_AFTER) + "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]"
)


def restart_points(text: str, start: int, end: int) -> list[int]:
    """Every point in `text[start:end]` where tokenising may stop and resume, in order."""
    return [match.end() for match in _RESTART.finditer(text, start, end)]


def restart_point(text: str, start: int, end: int) -> int:
    """The furthest point in `text[start:end]` where tokenising may stop and resume, else `start`."""
    points = restart_points(text, start, end)
    return points[-1] if points else start


@lru_cache(maxsize=16384)
def _settled_part(
    part: str, fold_accents: bool
) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    """What `TokenStream.settle` makes of `part` with no letters open: tokens and open letters."""
    merged: list[tuple[str, ...]] = []
    letters = _merge(_cached_raw_tokens(part, fold_accents), [], merged)
    return tuple(_spelled(merged)), tuple(letters)


# Parts up to this long settle the same way whenever no single letters are open before them.
SHORT_PART = _CACHED_PART


def settled_part(
    part: str, fold_accents: bool
) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    """What `TokenStream.settle` makes of `part` (at most `SHORT_PART` long) when no single
    letters are open: the tokens it completes and the letters it leaves open (cached)."""
    return _settled_part(part, fold_accents)


class TokenStream:
    """`word_tokens` of a growing text, tokenised part by part so each part is read once.

    Parts end at a `restart_point`. Single letters at the end of a part stay open: the next
    part may continue their spaced-out word.
    """

    def __init__(self, *, fold_accents: bool) -> None:
        self._fold_accents = fold_accents
        self._letters: list[str] = []

    @property
    def open_run(self) -> bool:
        """Whether single letters at the end of the settled parts may still spell a word."""
        return bool(self._letters)

    def open_letters(self, letters: Sequence[str]) -> None:
        """Take the single letters a part settled elsewhere (`settled_part`) left open."""
        self._letters = list(letters)

    def settle(self, part: str) -> Sequence[tuple[str, ...]]:
        """The tokens `part` completes; no later text can change them."""
        if not self._letters and len(part) <= _CACHED_PART:
            tokens, letters = _settled_part(part, self._fold_accents)
            self._letters = list(letters)
            return tokens
        merged: list[tuple[str, ...]] = []
        self._letters = _merge(_part_tokens(part, self._fold_accents), self._letters, merged)
        return _spelled(merged)

    def rest(self, tail: str) -> list[tuple[str, ...]]:
        """The tokens still to come if the text ended with `tail`; nothing is settled."""
        merged: list[tuple[str, ...]] = []
        letters = _merge(_raw_tokens(tail, self._fold_accents), list(self._letters), merged)
        _flush_letters(letters, merged)
        return _spelled(merged)


def word_tokens(text: str, *, fold_accents: bool = True) -> list[tuple[str, ...]]:
    """The normalised tokens of `text`, each as the tuple of its possible spellings."""
    return TokenStream(fold_accents=fold_accents).rest(text)
