"""Work the Discord adapter took on and has not handed over yet, so stopping can wait for it."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class Workload:
    """Work taken on and not yet handed over: tasks, and interactions discord.py announced."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._keys: set[int] = set()
        self.idle = asyncio.Event()
        self.idle.set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        self.idle.clear()
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._update()

    def begin(self, key: int) -> None:
        self._keys.add(key)
        self.idle.clear()

    def end(self, key: int) -> None:
        self._keys.discard(key)
        self._update()

    def _update(self) -> None:
        if not self._tasks and not self._keys:
            self.idle.set()
