"""`WaitLine`: requests waiting, in arrival order, for a replica with room for one more."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque


class LineFull(Exception):
    """The line already holds as many requests as it may."""


class WaitLine:
    """A first-come, first-served line of waiters, woken one at a time as room frees up.

    A waiter woken while no room is left (another request took it first) goes back to the
    front of the line, not the back.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._waiters: deque[asyncio.Future[None]] = deque()

    def __len__(self) -> int:
        return len(self._waiters)

    async def wait(self, due: float, *, front: bool = False) -> None:
        """Wait until woken; LineFull when the line is full, TimeoutError at loop time `due`."""
        if len(self._waiters) >= self.limit and not front:
            raise LineFull(f"{len(self._waiters)} requests are already waiting")
        waiter = asyncio.get_running_loop().create_future()
        if front:
            self._waiters.appendleft(waiter)
        else:
            self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(due):
                await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.wake_one()  # woken but leaving: the room goes to the next in line
            else:
                with contextlib.suppress(ValueError):  # already dropped by `wake_one`
                    self._waiters.remove(waiter)
            raise

    def wake_one(self) -> None:
        """Let the first waiter in line try again."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
