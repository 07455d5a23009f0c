"""Context cues of a word list: a slur after "called", "the word" or "I'm a" is not an insult.

A `[hate]` entry after an opening quotation mark, or after one of its list's cues (a
`[mention]` phrase such as "called" or "the word", an `[ingroup]` phrase such as "I'm a"), with
at most `CUE_GAP` words between, is a mention or a reclaimed use. Other one-word slurs between
do not count as words, up to `CUE_CHAIN` of them ("called me a wetback spic"). Cues look back
only, so a streamed text is judged the same whatever its later words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from core.safety.normalize import QUOTE

# Words allowed between a cue and the term it excuses ("called *me a* ...").
CUE_GAP = 2
# Slurs allowed between them besides ("called me a *wetback* spic").
CUE_CHAIN = 2

# A token: each of its spellings with its squeezed form (see core.safety.wordlist_matching).
Token = tuple[tuple[str, str], ...]


class Cues:
    """The cues of one list (squeezed words) and the one-word slurs a chain may hold."""

    def __init__(self, cues: Iterable[tuple[str, ...]], slurs: Iterable[tuple[str, ...]]) -> None:
        self._cues = {cue for cue in cues if cue} | {(QUOTE,)}
        self._slurs = frozenset(slurs)
        # How many tokens before a match the cues may need to see.
        self.lookback = max(len(cue) for cue in self._cues) + CUE_GAP + CUE_CHAIN

    def excuse(self, tokens: Sequence[Token], start: int) -> bool:
        """Whether a cue ends close enough before `tokens[start]` to excuse a slur there."""
        skipped = gap = 0
        end = start
        while gap <= CUE_GAP and end > 0:
            for cue in self._cues:
                begin = end - len(cue)
                if begin >= 0 and all(
                    any(squeezed == word for _, squeezed in tokens[begin + offset])
                    for offset, word in enumerate(cue)
                ):
                    return True
            end -= 1
            if skipped < CUE_CHAIN and any((s,) in self._slurs for _, s in tokens[end]):
                skipped += 1
            else:
                gap += 1
        return False
