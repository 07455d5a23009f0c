"""What every platform fake shares: tests wait on it until a condition about it holds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

WAIT_LIMIT = 10.0  # seconds a test may wait for a fake before failing


class ObservedFake:
    """A fake whose changes wake waiters: `wait_until` checks its condition after each one.

    Subclasses call `_notify()` after every call they answer or change they make.
    """

    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self._notifications: set[asyncio.Task[None]] = set()

    async def wait_until(self, condition: Callable[[], bool], within: float = WAIT_LIMIT) -> None:
        """Wait until `condition()` holds; it is checked after everything the fake does."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(condition)

    def _notify(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        task = asyncio.get_running_loop().create_task(notify())
        self._notifications.add(task)
        task.add_done_callback(self._notifications.discard)
