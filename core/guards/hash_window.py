"""Stores of hashes for the repetition reading, each bounded by its window of recent words.

The repetition guard remembers the word runs and sentences of a reply's last few hundred words
for every reply in flight. Lookups are by hash in dicts and sets (one probe, no Python int built
per comparison); what bounds their size is the reading order kept in compact `array`s (8 bytes
an entry), which hands the oldest entries back to be forgotten.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence


class HashCounts(dict[int, int]):
    """A multiset of hashes: how many remembered entries have each one (`in` asks the dict)."""

    def add_all(self, values: Iterable[int]) -> None:
        for value in values:
            self[value] = self.get(value, 0) + 1

    def remove_all(self, values: Iterable[int]) -> None:
        """Take one occurrence of each value out (one that is absent: nothing happens)."""
        for value in values:
            count = self.get(value)
            if count is None:
                continue
            if count > 1:
                self[value] = count - 1
            else:
                del self[value]


class RecentEntries:
    """Entries (short sequences of hashes) in reading order, each costing some words; the
    oldest are forgotten (handed to `forget`) beyond `limit` words.

    The open line's entries are counted apart from those of finished lines: the open line may
    still turn out to be code or a table row and be taken back, and taking it back must leave
    the finished lines' entries exactly as reading the whole text at once would have them.
    Entries are stored flat in arrays as `cost, size, values...`.
    """

    def __init__(self, limit: int, forget: Callable[[array[int]], None]) -> None:
        self._limit = limit
        self._forget = forget
        self._settled: array[int] = array("q")
        self._settled_head = 0
        self._settled_cost = 0
        self._line: array[int] = array("q")
        self._line_head = 0
        self._line_cost = 0

    def __len__(self) -> int:
        """How many hashes (with each entry's cost and size) are held."""
        return len(self._settled) - self._settled_head + len(self._line) - self._line_head

    def add(self, values: Sequence[int], cost: int) -> None:
        line = self._line
        line.append(cost)
        line.append(len(values))
        line.extend(values)
        self._line_cost += cost
        if self._line_cost > self._limit:
            self._line_head, self._line_cost = self._trim(line, self._line_head, self._line_cost)

    def settle(self) -> None:
        """The open line is finished: its entries join the others'."""
        if self._line_cost == 0 and len(self._line) == self._line_head:
            return
        self._settled.extend(self._line[self._line_head :])
        self._settled_cost += self._line_cost
        self._line = array("q")
        self._line_head = self._line_cost = 0
        if self._settled_cost > self._limit:
            self._settled_head, self._settled_cost = self._trim(
                self._settled, self._settled_head, self._settled_cost
            )

    def take_back_line(self) -> list[array[int]]:
        """The open line's entries, no longer remembered."""
        line = self._line
        taken = []
        index = self._line_head
        while index < len(line):
            size = line[index + 1]
            taken.append(line[index + 2 : index + 2 + size])
            index += 2 + size
        self._line = array("q")
        self._line_head = self._line_cost = 0
        return taken

    def _trim(self, entries: array[int], head: int, cost: int) -> tuple[int, int]:
        """Forget the oldest entries until `cost` is within the limit; the new head and cost."""
        while cost > self._limit and head < len(entries):
            size = entries[head + 1]
            cost -= entries[head]
            self._forget(entries[head + 2 : head + 2 + size])
            head += 2 + size
        if head > len(entries) // 2:
            del entries[:head]
            head = 0
        return head, cost


class RecentHashes:
    """`RecentEntries` for entries of one hash costing one word each (a word's run of words):
    the same forgetting, without an entry's cost and size stored or sliced out each time."""

    def __init__(self, limit: int, forget: Callable[[int], None]) -> None:
        self._limit = limit
        self._forget = forget
        self._settled: array[int] = array("q")
        self._settled_head = 0
        self._line: array[int] = array("q")
        self._line_head = 0

    def __len__(self) -> int:
        return len(self._settled) - self._settled_head + len(self._line) - self._line_head

    def add(self, value: int) -> None:
        line = self._line
        line.append(value)
        head = self._line_head
        if len(line) - head > self._limit:
            # One entry in, so at most one out: `_trim` inlined (a call per word of the reply).
            self._forget(line[head])
            head += 1
            if head > len(line) // 2:
                del line[:head]
                head = 0
            self._line_head = head

    def settle(self) -> None:
        """The open line is finished: its entries join the others'."""
        if len(self._line) == self._line_head:
            return
        self._settled.extend(self._line[self._line_head :])
        self._line = array("q")
        self._line_head = 0
        self._settled_head = self._trim(self._settled, self._settled_head)

    def take_back_line(self) -> list[int]:
        """The open line's entries, no longer remembered."""
        taken = self._line[self._line_head :].tolist()
        self._line = array("q")
        self._line_head = 0
        return taken

    def _trim(self, entries: array[int], head: int) -> int:
        """Forget the oldest entries beyond the limit; the new head."""
        forget = self._forget
        while len(entries) - head > self._limit:
            forget(entries[head])
            head += 1
        if head > len(entries) // 2:
            del entries[:head]
            head = 0
        return head
