"""The sentences of a reply's last words, as hashes: whether one repeats, or one starts so."""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from core.guards.hash_window import HashCounts, RecentEntries

ROOT = 0  # the prefix hash of a sentence with no words yet


def extended(prefix: int, word: int) -> int:
    """The hash of a word sequence one word longer than the one `prefix` hashes."""
    return hash((prefix, word))


class SentenceMemory:
    """Earlier sentences as hashes: their whole word sequences, and every prefix of them (a trie
    of hashes), to tell whether an open sentence starts like one; those that fall out of the
    last `window` words are forgotten, and those of a line taken back too."""

    def __init__(self, window: int) -> None:
        # A sentence is remembered only when its hash is not (a repeat is reported instead).
        self.keys: set[int] = set()
        self.prefixes = HashCounts()  # one count per remembered sentence that starts so
        self._recent = RecentEntries(window, self._forget)

    def held(self) -> int:
        """How many hashes are held (bounded by the window)."""
        return len(self.keys) + len(self.prefixes) + len(self._recent)

    def remember(self, key: int, prefixes: Sequence[int]) -> None:
        """Remember a sentence by its key and its first prefixes (one per word, up to the
        window)."""
        self.keys.add(key)
        self.prefixes.add_all(prefixes)
        self._recent.add([key, *prefixes], max(len(prefixes), 1))

    def settle_line(self) -> None:
        """The open line is finished: its sentences are taken back no more."""
        self._recent.settle()

    def take_back_line(self) -> None:
        """Forget the sentences the open line added: it is not prose after all."""
        for entry in self._recent.take_back_line():
            self._forget(entry)

    def _forget(self, entry: array[int]) -> None:
        """Forget a sentence (its key, then its prefixes) no longer remembered."""
        if entry[0] in self.keys:
            self.keys.discard(entry[0])
            self.prefixes.remove_all(entry[1:])
