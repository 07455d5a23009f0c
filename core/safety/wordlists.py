"""The in-process word-list layer: per-language lists of slurs and obscenities, matched on words.

Lists live in `core/data/safety/wordlists/<language>.txt` (format in
`core.safety.wordlist_files`; sources and licences in `core/data/safety/SOURCES.md`); an operator
may add a folder of their own in the same format.

Matching works on whole normalised words (see `core.safety.normalize`), so "Scunthorpe" and
"assistant" never match, while "sh1t", "s h i t" and "shiiit" do. A text is checked against
the list of its language and the English one; with an undetermined language, against all.
Entries of a `[category: this language only]` section are checked only in text of their own
language. Lists are tuned for precision: words with an everyday meaning are left out.

Context (`core.safety.list_cues`): a `[hate]` entry right after an opening quotation mark or
after a cue of its list ("called", "the word", "I'm a") is a mention or a reclaimed use and is
not reported. An entry inside one of its list's `[except]` phrases ("spic and span",
`core.safety.list_exceptions`), or right before one of its `[mention after]` cues ("is a
slur"), is not reported either; a match that may still become such a phrase is decided once
the words after it are written or the text ends, so a streamed text is judged the same whatever
its parts. Negation is not read here: the guard model judges meaning.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from core.safety.base import Role, SafetyClassifier, SafetyVerdict, TextWatcher
from core.safety.categories import HATE
from core.safety.list_cues import Cues
from core.safety.list_exceptions import ExceptionPhrases
from core.safety.normalize import (
    SHORT_PART,
    TokenStream,
    restart_points,
    settled_part,
    word_tokens,
)
from core.safety.wordlist_files import (
    CUE_SECTIONS,
    Entry,
    WordList,
    bundled_word_lists,
    load_word_lists,
    parse_word_list,
)

__all__ = [
    "CUE_SECTIONS",
    "Entry",
    "WordList",
    "WordListClassifier",
    "WordMatch",
    "bundled_word_lists",
    "load_word_lists",
    "parse_word_list",
]

UNDETERMINED = "und"
ALWAYS_CHECKED = "en"  # English slurs and swearing turn up in replies of every language


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
_Token = tuple[tuple[str, str], ...]


@lru_cache(maxsize=16384)
def _prepared_token(token: tuple[str, ...]) -> _Token:
    return tuple((spelling, _squeeze(spelling)) for spelling in token)


def _prepared(tokens: Iterable[tuple[str, ...]]) -> list[_Token]:
    return [_prepared_token(token) for token in tokens]


@lru_cache(maxsize=16384)
def _prepared_part(tokens: tuple[tuple[str, ...], ...]) -> tuple[_Token, ...]:
    """The tokens of a settled part (a word, usually), prepared once per process."""
    return tuple(_prepared_token(token) for token in tokens)


def _pattern(tokens: Sequence[str]) -> re.Pattern[str]:
    # Each letter may be repeated ("shiiit") but never written fewer times than in the entry,
    # so "niger" does not match an entry spelled with a double "g".
    words = [
        "".join(f"{re.escape(char)}{{{len(list(run))},}}" for char, run in itertools.groupby(t))
        for t in tokens
    ]
    return re.compile(" ".join(words))


class _CompiledList:
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
        return list(self.matches(_prepared(tokens), 0, final=True))

    def matches(
        self, tokens: Sequence[_Token], first_new: int, *, final: bool = False
    ) -> Iterator[WordMatch]:
        """Entries decided in `tokens` by a token from `first_new` on (or by the end, if `final`).

        A match is decided by its last token, or later when an exception phrase may hold it.
        """
        first_words = self.first_words
        for start in range(max(0, first_new - self.reach + 1), len(tokens)):
            if _starts_none(tokens[start], first_words):
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


@dataclass(frozen=True, eq=False)
class _Folding:
    """What a watcher needs to know of the lists read with one accent folding, worked out once.

    `beginnings`: the first words of every entry or exception phrase longer than them;
    `starters` and `enders`: the first and the last words of those beginnings (text whose last
    word is no ender cannot go on to a listed phrase, which settles most words with one
    look-up); `first_words`: the first words of every entry; `entry_prefixes`: the first
    words of every entry of more words; `held_words`: the first words of the entries an
    exception phrase may hold undecided; `reach`: how far back a window may start and still be
    decided by a new token.
    """

    lists: tuple[_CompiledList, ...]
    beginnings: frozenset[tuple[str, ...]]
    starters: frozenset[str]
    enders: frozenset[str]
    longest_beginning: int
    first_words: frozenset[str]
    entry_prefixes: frozenset[tuple[str, ...]]
    held_words: frozenset[str]
    reach: int


@lru_cache(maxsize=64)
def _foldings(lists: tuple[_CompiledList, ...]) -> tuple[tuple[bool, _Folding], ...]:
    """The lists grouped by accent folding, each group with what a watcher needs of it."""
    groups: dict[bool, list[_CompiledList]] = defaultdict(list)
    for compiled in lists:
        groups[compiled.fold_accents].append(compiled)
    foldings = []
    for fold, group in groups.items():
        beginnings = frozenset().union(*(compiled.beginnings for compiled in group))
        foldings.append(
            (
                fold,
                _Folding(
                    lists=tuple(group),
                    beginnings=beginnings,
                    starters=frozenset(key[0] for key in beginnings),
                    enders=frozenset(key[-1] for key in beginnings),
                    longest_beginning=max((len(key) for key in beginnings), default=0),
                    first_words=frozenset().union(*(compiled.first_words for compiled in group)),
                    entry_prefixes=frozenset().union(
                        *(compiled.entry_prefixes for compiled in group)
                    ),
                    held_words=frozenset().union(
                        *(compiled.exceptions.first_words for compiled in group)
                    ),
                    reach=max(compiled.reach for compiled in group),
                ),
            )
        )
    return tuple(foldings)


def _last_entry_start(new: Sequence[_Token], folding: _Folding) -> int:
    """The offset of the last token of `new` that starts an entry of `folding`'s lists, or -1."""
    first_words = folding.first_words
    last = -1
    for offset, token in enumerate(new):
        if not _starts_none(token, first_words):
            last = offset
    return last


def _starts_none(token: _Token, first_words: frozenset[str]) -> bool:
    """Whether no spelling of `token` is the first word of an entry (most tokens have one
    spelling, and most start no entry)."""
    return token[0][1] not in first_words and (
        len(token) == 1 or not any(squeezed in first_words for _, squeezed in token)
    )


def _may_decide(folding: _Folding, tokens: Sequence[_Token], first_new: int) -> bool:
    """Whether a token from `first_new` on may decide a match (`_CompiledList.matches` finds
    nothing otherwise): a window starting before it reaches it only if the tokens up to it
    begin an entry of more words, in some spelling, or an exception phrase may hold one."""
    first_words = folding.first_words
    for start in range(max(0, first_new - folding.reach + 1), len(tokens)):
        token = tokens[start]
        if _starts_none(token, first_words):
            continue
        if start >= first_new or any(squeezed in folding.held_words for _, squeezed in token):
            return True
        window = tokens[start:first_new]
        if all(len(token) == 1 for token in window):
            if tuple(token[0][1] for token in window) in folding.entry_prefixes:
                return True
        elif any(
            tuple(squeezed for _, squeezed in spelling) in folding.entry_prefixes
            for spelling in itertools.product(*window)
        ):
            return True
    return False


@lru_cache(maxsize=16384)
def _short_part(
    part: str, fold: bool, folding: _Folding
) -> tuple[tuple[_Token, ...], tuple[str, ...], int]:
    """A short part settled with no letters open, in one folding: its prepared tokens, the
    letters it leaves open and the offset of its last token that starts an entry (or -1),
    worked out once per process: words recur, and most of a reply's parts are one word."""
    tokens, letters = settled_part(part, fold)
    new = _prepared_part(tokens)
    return new, letters, _last_entry_start(new, folding)


class _Lane:
    """The settled tokens of a text in one accent folding, and what is known of them.

    One object per folding: each settled word reads and updates its state as attributes, where
    a dict per field keyed by the folding cost a look-up per field and word.
    """

    __slots__ = (
        "context",
        "dropped",
        "fold",
        "folding",
        "last_start",
        "open_run",
        "starts",
        "stream",
    )

    def __init__(self, fold: bool, folding: _Folding) -> None:
        self.fold = fold
        self.folding = folding
        self.stream = TokenStream(fold_accents=fold)
        # The last settled tokens, which a window may join to later ones, and where the text
        # that yielded each of them starts (the start of its part: at or before the token).
        self.context: list[_Token] = []
        self.starts: list[int] = []
        # Tokens counted from the first one settled: how many were trimmed from the context, and
        # the last one that starts an entry (a new token decides nothing when none is in reach).
        self.dropped = 0
        self.last_start = -1
        # Where a run of single letters still open (maybe a spaced-out word) starts.
        self.open_run: int | None = None

    def match(
        self, tokens: list[_Token], found: dict[str, float], first_new: int, *, final: bool
    ) -> None:
        for compiled in self.folding.lists:
            for match in compiled.matches(tokens, first_new, final=final):
                found[match.category] = 1.0


class _WordListWatcher(TextWatcher):
    """Word-list verdicts on a growing text: each part is tokenised and matched once.

    The text is tokenised up to its last `restart_point`; only the rest, usually the last word,
    is tokenised again on the next call. Matches in the settled part are kept; windows reaching
    into the rest are matched afresh each time. `release` shows the settled words except those
    that may still become part of a listed phrase or a spaced-out word.
    """

    def __init__(self, name: str, lists: Sequence[_CompiledList]) -> None:
        self._name = name
        self._context_size = max(
            (compiled.reach - 1 + compiled.lookback for compiled in lists), default=0
        )
        self._foldings = _foldings(tuple(lists))
        self._reset()

    def _reset(self) -> None:
        self._text = ""
        self._read = 0  # self._text[:self._read] is tokenised for good
        self._lanes = [_Lane(fold, folding) for fold, folding in self._foldings]
        self._found: dict[str, float] = {}
        self._shown = 0  # how far the settled words may be shown
        self._settled_verdict = SafetyVerdict(self._name)  # on the settled words

    def verdict(self, text: str) -> SafetyVerdict:
        self._settle(text)
        found = dict(self._found)
        rest = text[self._read :]
        for lane in self._lanes:
            tokens = [*lane.context, *_prepared(lane.stream.rest(rest))]
            lane.match(tokens, found, len(lane.context), final=True)
        return SafetyVerdict(self._name, found)

    def release(self, text: str) -> tuple[SafetyVerdict, int]:
        if self._settle(text):
            self._shown = self._shown_end()
            if self._found:
                self._settled_verdict = SafetyVerdict(self._name, dict(self._found))
        return self._settled_verdict, self._shown

    def _settle(self, text: str) -> bool:
        """Tokenise and match `text` up to its last restart point; whether that point moved."""
        if not (text.startswith(self._text) or text[: self._read] == self._text[: self._read]):
            self._reset()
        self._text = text
        points = restart_points(text, self._read, len(text))
        if not points:
            return False
        for lane in self._lanes:
            self._settle_lane(lane, text, self._read, points)
        self._read = points[-1]
        return True

    def _settle_lane(self, lane: _Lane, text: str, start: int, points: list[int]) -> None:
        """Settle the parts of `text` from `start` ending at `points`, in one accent folding.

        Part by part (a word, usually), so that each token knows where its word starts. Every
        part of a batch goes through one lane before the next lane's turn: the lane's state is
        held in locals for the batch and written back once, not read and written per word.
        """
        stream = lane.stream
        folding = lane.folding
        fold = lane.fold
        context = lane.context
        starts = lane.starts
        reach = folding.reach
        size = self._context_size
        found = self._found
        dropped = lane.dropped
        last_start = lane.last_start
        open_run = lane.open_run
        was_open = stream.open_run
        new: Sequence[_Token]
        for end in points:
            part = text[start:end]
            if not was_open and len(part) <= SHORT_PART:
                new, letters, last = _short_part(part, fold, folding)
                if letters:
                    stream.open_letters(letters)
                now_open = bool(letters)
            else:
                new = _prepared(stream.settle(part))
                last = _last_entry_start(new, folding)
                now_open = stream.open_run
            if new:
                # The context list is extended in place and trimmed from the front: no copy of
                # it per word.
                first_new = len(context)
                context += new
                counted = dropped + first_new
                if last >= 0:
                    last_start = counted + last
                # Most words start no entry, nor do the few before them: nothing to match.
                if last_start > counted - reach and _may_decide(folding, context, first_new):
                    lane.match(context, found, first_new, final=False)
                if len(new) == 1:
                    starts.append(start)
                else:
                    starts += [start] * len(new)
                excess = len(context) - size
                if excess > 0:
                    del context[:excess], starts[:excess]
                    dropped += excess
            if not now_open:
                open_run = None
            elif not was_open or new:
                # A run opened in this part (or closed and another opened): it starts in it.
                open_run = start
            was_open = now_open
            start = end
        lane.dropped = dropped
        lane.last_start = last_start
        lane.open_run = open_run

    def _shown_end(self) -> int:
        """The settled text less a tail that may begin a listed phrase or spaced-out word."""
        end = self._read
        for lane in self._lanes:
            if lane.open_run is not None:
                end = min(end, lane.open_run)
            context = lane.context
            if not context:
                continue
            folding = lane.folding
            enders = folding.enders
            # Most tokens have one spelling, and most end no phrase's beginning.
            last = context[-1]
            if last[0][1] not in enders and (
                len(last) == 1 or not any(squeezed in enders for _, squeezed in last)
            ):
                continue
            # Longest tail first; only a tail starting with a phrase's first word may continue.
            starters = folding.starters
            size = min(len(context), folding.longest_beginning)
            for offset, token in enumerate(context[-size:]):
                starts_one = token[0][1] in starters or (
                    len(token) > 1 and any(s in starters for _, s in token)
                )
                if starts_one and self._may_continue(folding, context[offset - size :]):
                    end = min(end, lane.starts[offset - size])
                    break
        return end

    @staticmethod
    def _may_continue(folding: _Folding, tokens: Sequence[_Token]) -> bool:
        """Whether `tokens`, in some spelling, are the first words of a longer entry."""
        if not any(squeezed in folding.starters for _, squeezed in tokens[0]):
            return False
        beginnings = folding.beginnings
        return any(
            tuple(squeezed for _, squeezed in spelling) in beginnings
            for spelling in itertools.product(*tokens)
        )


def _base_language(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()


class WordListClassifier(SafetyClassifier):
    """Finds listed slurs and obscenities; fast enough to run inline on every chunk."""

    name = "wordlist"

    def __init__(self, word_lists: Iterable[WordList] | None = None) -> None:
        lists = bundled_word_lists() if word_lists is None else list(word_lists)
        self._lists = {word_list.language: _CompiledList(word_list) for word_list in lists}
        # The same lists for text of other languages: without this-language-only entries.
        self._elsewhere = {
            word_list.language: (
                self._lists[word_list.language]
                if all(entry.everywhere for entry in word_list.entries)
                else _CompiledList(word_list, elsewhere=True)
            )
            for word_list in lists
        }

    @property
    def languages(self) -> list[str]:
        """Languages that have a list."""
        return sorted(self._lists)

    def _lists_for(self, language: str) -> list[_CompiledList]:
        base = _base_language(language)
        if base == UNDETERMINED:
            return list(self._elsewhere.values())
        own = [self._lists[base]] if base in self._lists else []
        english = self._elsewhere.get(ALWAYS_CHECKED)
        if english is not None and base != ALWAYS_CHECKED:
            own.append(english)
        return own

    def find(self, text: str, language: str) -> list[WordMatch]:
        """Every list entry in `text`, checked against the lists for `language`."""
        found: list[WordMatch] = []
        tokens_by_folding: dict[bool, list[tuple[str, ...]]] = {}
        for compiled in self._lists_for(language):
            tokens = tokens_by_folding.get(compiled.fold_accents)
            if tokens is None:
                tokens = word_tokens(text, fold_accents=compiled.fold_accents)
                tokens_by_folding[compiled.fold_accents] = tokens
            found.extend(compiled.find(tokens))
        return found

    def verdict_now(self, text: str, language: str) -> SafetyVerdict:
        return SafetyVerdict(
            self.name, {match.category: 1.0 for match in self.find(text, language)}
        )

    def watch(self, language: str) -> TextWatcher | None:
        return _WordListWatcher(self.name, self._lists_for(language))

    async def classify(
        self, text: str, *, language: str, role: Role, prompt: str = ""
    ) -> SafetyVerdict:
        return self.verdict_now(text, language)
