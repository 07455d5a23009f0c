"""Word-list verdicts on a growing text: each part of it is tokenised and matched once."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from core.safety.base import SafetyVerdict, TextWatcher
from core.safety.normalize import SHORT_PART, TokenStream, restart_points, settled_part
from core.safety.wordlist_matching import (
    CompiledList,
    Token,
    prepared,
    prepared_part,
    starts_none,
)


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

    lists: tuple[CompiledList, ...]
    beginnings: frozenset[tuple[str, ...]]
    starters: frozenset[str]
    enders: frozenset[str]
    longest_beginning: int
    first_words: frozenset[str]
    entry_prefixes: frozenset[tuple[str, ...]]
    held_words: frozenset[str]
    reach: int


@lru_cache(maxsize=64)
def _foldings(lists: tuple[CompiledList, ...]) -> tuple[tuple[bool, _Folding], ...]:
    """The lists grouped by accent folding, each group with what a watcher needs of it."""
    groups: dict[bool, list[CompiledList]] = defaultdict(list)
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


def _last_entry_start(new: Sequence[Token], folding: _Folding) -> int:
    """The offset of the last token of `new` that starts an entry of `folding`'s lists, or -1."""
    first_words = folding.first_words
    last = -1
    for offset, token in enumerate(new):
        if not starts_none(token, first_words):
            last = offset
    return last


def _may_decide(folding: _Folding, tokens: Sequence[Token], first_new: int) -> bool:
    """Whether a token from `first_new` on may decide a match (`CompiledList.matches` finds
    nothing otherwise): a window starting before it reaches it only if the tokens up to it
    begin an entry of more words, in some spelling, or an exception phrase may hold one."""
    first_words = folding.first_words
    for start in range(max(0, first_new - folding.reach + 1), len(tokens)):
        token = tokens[start]
        if starts_none(token, first_words):
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
) -> tuple[tuple[Token, ...], tuple[str, ...], int]:
    """A short part settled with no letters open, in one folding: its prepared tokens, the
    letters it leaves open and the offset of its last token that starts an entry (or -1),
    worked out once per process: words recur, and most of a reply's parts are one word."""
    tokens, letters = settled_part(part, fold)
    new = prepared_part(tokens)
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
        self.context: list[Token] = []
        self.starts: list[int] = []
        # Tokens counted from the first one settled: how many were trimmed from the context, and
        # the last one that starts an entry (a new token decides nothing when none is in reach).
        self.dropped = 0
        self.last_start = -1
        # Where a run of single letters still open (maybe a spaced-out word) starts.
        self.open_run: int | None = None

    def match(
        self, tokens: list[Token], found: dict[str, float], first_new: int, *, final: bool
    ) -> None:
        for compiled in self.folding.lists:
            for match in compiled.matches(tokens, first_new, final=final):
                found[match.category] = 1.0


class WordListWatcher(TextWatcher):
    """Word-list verdicts on a growing text: each part is tokenised and matched once.

    The text is tokenised up to its last `restart_point`; only the rest, usually the last word,
    is tokenised again on the next call. Matches in the settled part are kept; windows reaching
    into the rest are matched afresh each time. `release` shows the settled words except those
    that may still become part of a listed phrase or a spaced-out word.
    """

    def __init__(self, name: str, lists: Sequence[CompiledList]) -> None:
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
            tokens = [*lane.context, *prepared(lane.stream.rest(rest))]
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
        new: Sequence[Token]
        for end in points:
            part = text[start:end]
            if not was_open and len(part) <= SHORT_PART:
                new, letters, last = _short_part(part, fold, folding)
                if letters:
                    stream.open_letters(letters)
                now_open = bool(letters)
            else:
                new = prepared(stream.settle(part))
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
    def _may_continue(folding: _Folding, tokens: Sequence[Token]) -> bool:
        """Whether `tokens`, in some spelling, are the first words of a longer entry."""
        if not any(squeezed in folding.starters for _, squeezed in tokens[0]):
            return False
        beginnings = folding.beginnings
        return any(
            tuple(squeezed for _, squeezed in spelling) in beginnings
            for spelling in itertools.product(*tokens)
        )
