"""Exception phrases of a word list: phrases in which a listed word is not what it is listed for.

"spic and span" holds a listed slur but means "spotless". A match of an entry is excused when an
exception phrase containing that entry is written around it. Deciding that needs the words after
the match, so a match that may still grow into an exception is undecided until they come (its
words are held back from display meanwhile, like the first words of a listed phrase).

Cues after a slur ("<slur> is a slur", "<slur> is an insult": counter-speech names the word,
then says what it is) work the same way: each one-word `[hate]` entry followed by each such cue
is one more exception phrase, so the slur waits for the words after it. One-word entries only,
and cues of at most four words: the longest phrase sets how far back each new word is matched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

# A token: each of its spellings with its squeezed form (see core.safety.wordlist_matching).
Token = tuple[tuple[str, str], ...]


class ExceptionPhrases:
    """The exception phrases of one list, indexed by the entries they contain."""

    def __init__(
        self,
        phrases: Iterable[tuple[str, ...]],
        entry_keys: Iterable[tuple[str, ...]],
        *,
        after_cues: Iterable[tuple[str, ...]] = (),
        slurs: Iterable[tuple[str, ...]] = (),
    ) -> None:
        """`after_cues` excuse each of `slurs` (entry keys) that they directly follow."""
        phrases = [phrase for phrase in phrases if phrase]
        # For each entry (squeezed words): the phrases containing it, with where it starts.
        self._around: dict[tuple[str, ...], list[tuple[tuple[str, ...], int]]] = defaultdict(list)
        for key in set(entry_keys):
            for phrase in phrases:
                for offset in range(len(phrase) - len(key) + 1):
                    if phrase[offset : offset + len(key)] == key:
                        self._around[key].append((phrase, offset))
        cues = [cue for cue in after_cues if cue]
        for key in set(slurs):
            for cue in cues:
                self._around[key].append((key + cue, 0))
                phrases.append(key + cue)
        self.longest = max((len(phrase) for phrase in phrases), default=0)
        # The first words of the entries some phrase contains: only a match starting with one
        # may have been left undecided.
        self.first_words = frozenset(key[0] for key in self._around)
        # The first words of every phrase: text ending in them may still become one.
        self.beginnings = frozenset(phrase[:n] for phrase in phrases for n in range(1, len(phrase)))

    def concerns(self, key: tuple[str, ...]) -> bool:
        """Whether some phrase contains the entry `key`."""
        return key in self._around

    def decide(
        self, key: tuple[str, ...], tokens: Sequence[Token], start: int, length: int, final: bool
    ) -> tuple[bool | None, int]:
        """Whether the match of `key` at `tokens[start:start + length]` is excused.

        Returns True (inside an exception phrase), False (in none), or None (the words that
        would tell are not written yet and the text is not `final`), and the index just past
        the token that decided it. A text that ends decides at its end, which counts as new.
        """
        decided_at = start + length
        undecided = False
        for phrase, offset in self._around.get(key, ()):
            begin = start - offset
            if begin < 0:
                continue
            for index, word in enumerate(phrase):
                position = begin + index
                if position >= len(tokens):
                    undecided = undecided or not final
                    decided_at = max(decided_at, len(tokens) + 1)
                    break
                if not any(squeezed == word for _, squeezed in tokens[position]):
                    decided_at = max(decided_at, position + 1)
                    break
            else:
                return True, begin + len(phrase)
        return (None, len(tokens)) if undecided else (False, decided_at)
