"""Word-list matching: a list compiled for look-up by squeezed spelling, and the entries it finds."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from core.safety.categories import HATE
from core.safety.list_cues import Cues
from core.safety.list_exceptions import ExceptionPhrases
from core.safety.normalize import word_tokens
from core.safety.wordlist_files import Entry, WordList


@dataclass(frozen=True)
class WordMatch:
    """A list entry found in a text (the entry, never the text around it)."""

    term: str
    category: str
    language: str


@lru_cache(maxsize=8192)
def _squeeze(token: str) -> str:
    return "".join(char for char, _ in itertools.groupby(token))


# A token ready for matching: each of its spellings with its squeezed form.
Token = tuple[tuple[str, str], ...]


@lru_cache(maxsize=16384)
def _prepared_token(token: tuple[str, ...]) -> Token:
    return tuple((spelling, _squeeze(spelling)) for spelling in token)


def prepared(tokens: Iterable[tuple[str, ...]]) -> list[Token]:
    """`tokens` (each a tuple of spellings) ready for matching."""
    return [_prepared_token(token) for token in tokens]


@lru_cache(maxsize=16384)
def prepared_part(tokens: tuple[tuple[str, ...], ...]) -> tuple[Token, ...]:
    """The tokens of a settled part (a word, usually), prepared once per process."""
    return tuple(_prepared_token(token) for token in tokens)


def starts_none(token: Token, first_words: frozenset[str]) -> bool:
    """Whether no spelling of `token` is the first word of an entry (most tokens have one
    spelling, and most start no entry)."""
    return token[0][1] not in first_words and (
        len(token) == 1 or not any(squeezed in first_words for _, squeezed in token)
    )


def _pattern(tokens: Sequence[str]) -> re.Pattern[str]:
    # Each letter may be repeated ("shiiit") but never written fewer times than in the entry,
    # so "niger" does not match an entry spelled with a double "g".
    words = [
        "".join(f"{re.escape(char)}{{{len(list(run))},}}" for char, run in itertools.groupby(t))
        for t in tokens
    ]
    return re.compile(" ".join(words))


class CompiledList:
    """A word list indexed by the squeezed spelling of its entries.

    `elsewhere`: compiled for text of another language, without its this-language-only entries.
    """

    def __init__(self, word_list: WordList, *, elsewhere: bool = False) -> None:
        self.language = word_list.language
        self.fold_accents = word_list.fold_accents
        self.index: dict[tuple[str, ...], list[tuple[re.Pattern[str], Entry]]] = defaultdict(list)
        self.longest = 1
        for entry in word_list.entries:
            if elsewhere and not entry.everywhere:
                continue
            tokens = [
                spellings[0]
                for spellings in word_tokens(entry.term, fold_accents=self.fold_accents)
            ]
            if not tokens:
                continue
            self.longest = max(self.longest, len(tokens))
            key = tuple(_squeeze(token) for token in tokens)
            self.index[key].append((_pattern(tokens), entry))
        slurs = [
            key
            for key, candidates in self.index.items()
            if len(key) == 1 and any(entry.category == HATE for _, entry in candidates)
        ]
        self.cues = Cues((self._squeezed(cue) for cue in word_list.cues), slurs)
        # How many tokens before a window the cues may need to see.
        self.lookback = self.cues.lookback
        self.exceptions = ExceptionPhrases(
            (self._squeezed(phrase) for phrase in word_list.exceptions),
            self.index,
            after_cues=(self._squeezed(cue) for cue in word_list.after_cues),
            slurs=slurs,
        )
        # How far back a window may start and still be decided by a new token.
        self.reach = max(self.longest, self.exceptions.longest)
        # Most words start no entry: one look-up rules out every window they start.
        self.first_words = frozenset(key[0] for key in self.index)
        # The first words of entries of several words: a window that is none of these (nor an
        # entry) starts no entry, however many words follow it.
        self.entry_prefixes = frozenset(key[:n] for key in self.index for n in range(1, len(key)))
        # The first words of entries of several words, or of exception phrases: text ending in
        # them may go on to one.
        self._beginnings = (
            frozenset(key[:n] for key in self.index for n in range(1, len(key)))
            | self.exceptions.beginnings
        )

    def _squeezed(self, phrase: str) -> tuple[str, ...]:
        return tuple(
            _squeeze(spellings[0])
            for spellings in word_tokens(phrase, fold_accents=self.fold_accents)
        )

    @property
    def beginnings(self) -> frozenset[tuple[str, ...]]:
        """The first words (squeezed) of every entry or exception phrase longer than them."""
        return self._beginnings

    def find(self, tokens: Sequence[tuple[str, ...]]) -> list[WordMatch]:
        return list(self.matches(prepared(tokens), 0, final=True))

    def matches(
        self, tokens: Sequence[Token], first_new: int, *, final: bool = False
    ) -> Iterator[WordMatch]:
        """Entries decided in `tokens` by a token from `first_new` on (or by the end, if `final`).

        A match is decided by its last token, or later when an exception phrase may hold it.
        """
        first_words = self.first_words
        for start in range(max(0, first_new - self.reach + 1), len(tokens)):
            if starts_none(tokens[start], first_words):
                continue
            # Windows of settled tokens only were decided before, unless an exception phrase
            # may have left a match starting here undecided.
            held = any(squeezed in self.exceptions.first_words for _, squeezed in tokens[start])
            shortest = 1 if held else max(1, first_new - start + 1)
            for length in range(shortest, min(self.longest, len(tokens) - start) + 1):
                settled = start + length <= first_new
                for spelling in itertools.product(*tokens[start : start + length]):
                    key = tuple(squeezed for _, squeezed in spelling)
                    candidates = self.index.get(key)
                    if not candidates or (settled and not self.exceptions.concerns(key)):
                        continue
                    joined = " ".join(written for written, _ in spelling)
                    for pattern, entry in candidates:
                        if not pattern.fullmatch(joined) or (
                            entry.category == HATE and self.cues.excuse(tokens, start)
                        ):
                            continue
                        excused, decided_at = self.exceptions.decide(
                            key, tokens, start, length, final
                        )
                        if excused is False and decided_at > first_new:
                            yield WordMatch(entry.term, entry.category, self.language)
