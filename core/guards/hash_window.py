"""Compact stores of 64-bit hashes for the repetition reading: 8 bytes an entry, not a set's ~100.

The repetition guard remembers the word runs and sentences of a reply's last few hundred words
for every reply in flight, so how it stores them is most of a reply's memory. Sorted `array`s
hold hashes without a Python object each; lookups are binary searches.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, insort
from collections.abc import Callable, Sequence


class HashBag:
    """A multiset of hashes in a sorted array."""

    def __init__(self) -> None:
        self._items: array[int] = array("q")

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, value: int) -> bool:
        items = self._items
        index = bisect_left(items, value)
        return index < len(items) and items[index] == value

    def add(self, value: int) -> None:
        insort(self._items, value)

    def add_new(self, value: int) -> bool:
        """Add `value` unless it is there already; whether it was added (one search)."""
        items = self._items
        index = bisect_left(items, value)
        if index < len(items) and items[index] == value:
            return False
        items.insert(index, value)
        return True

    def remove(self, value: int) -> None:
        """Take one occurrence of `value` out (none: nothing happens)."""
        items = self._items
        index = bisect_left(items, value)
        if index < len(items) and items[index] == value:
            del items[index]


class HashPositions:
    """A map from hashes to positions (ints), in two parallel arrays sorted by hash."""

    def __init__(self) -> None:
        self._keys: array[int] = array("q")
        self._values: array[int] = array("q")

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, key: int) -> int | None:
        keys = self._keys
        index = bisect_left(keys, key)
        if index < len(keys) and keys[index] == key:
            return self._values[index]
        return None

    def put(self, key: int, value: int) -> int | None:
        """Set `key` to `value`; the value it had before, if any."""
        keys = self._keys
        index = bisect_left(keys, key)
        if index < len(keys) and keys[index] == key:
            old = self._values[index]
            self._values[index] = value
            return old
        keys.insert(index, key)
        self._values.insert(index, value)
        return None

    def forget_before(self, low: int) -> None:
        """Forget every key whose position is below `low`."""
        keys, values = self._keys, self._values
        kept = [index for index, value in enumerate(values) if value >= low]
        if len(kept) < len(keys):
            self._keys = array("q", [keys[index] for index in kept])
            self._values = array("q", [values[index] for index in kept])


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

    def add(self, value: int) -> None:
        line = self._line
        line.append(value)
        if len(line) - self._line_head > self._limit:
            self._line_head = self._trim(line, self._line_head)

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
