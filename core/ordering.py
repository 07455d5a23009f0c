"""One reply at a time per conversation, in arrival order, while other conversations run freely."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ConversationLocks:
    """FIFO locks by conversation key; a key's lock is dropped when nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Wait for the conversation's turn; messages that arrived earlier are answered first."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class ConversationQueues(Generic[T]):
    """Runs work items one at a time per conversation, in arrival order, under a shared capacity.

    Waiting items are plain queue entries, not tasks holding a slot: only the head item of
    each conversation competes for one of `capacity` running slots, so a conversation with
    many waiting items never occupies capacity that other conversations need. At most
    `max_waiting` items wait per conversation; `offer` refuses more (the conversation is
    flooding) and the caller decides what to tell the sender.
    """

    def __init__(
        self,
        run: Callable[[T], Awaitable[None]],
        *,
        capacity: int,
        max_waiting: int,
    ) -> None:
        if capacity < 1 or max_waiting < 1:
            raise ValueError("capacity and max_waiting must be at least 1")
        self._run = run
        self._slots = asyncio.Semaphore(capacity)
        self._max_waiting = max_waiting
        self._waiting: dict[str, collections.deque[T]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._closed = False

    def __len__(self) -> int:
        """How many conversations have work running or waiting."""
        return len(self._workers)

    @property
    def closed(self) -> bool:
        """True once `close` was called: nothing new is taken."""
        return self._closed

    def waiting(self, key: str) -> int:
        """Items of conversation `key` not yet started."""
        return len(self._waiting.get(key, ()))

    def offer(self, key: str, item: T) -> bool:
        """Queue `item` behind the conversation's earlier items; False when it must be refused."""
        if self._closed:
            return False
        queue = self._waiting.setdefault(key, collections.deque())
        if len(queue) >= self._max_waiting:
            return False
        queue.append(item)
        if key not in self._workers:
            self._workers[key] = asyncio.create_task(self._work(key), name=f"conversation {key}")
        return True

    async def _work(self, key: str) -> None:
        queue = self._waiting[key]
        try:
            while queue:
                async with self._slots:
                    item = queue.popleft()
                    try:
                        await self._run(item)
                    except Exception:
                        # One failed item must not stop the conversation's later items.
                        logger.exception("a queued item of a conversation failed")
        finally:
            self._waiting.pop(key, None)
            self._workers.pop(key, None)

    async def close(self, grace_seconds: float) -> None:
        """Refuse new items, let queued ones run for up to `grace_seconds`, then cancel the rest."""
        self._closed = True
        workers = list(self._workers.values())
        if not workers:
            return
        _, unfinished = await asyncio.wait(workers, timeout=grace_seconds)
        for worker in unfinished:
            worker.cancel()
        if unfinished:
            logger.warning(
                "cancelled %d conversations still answering at shutdown", len(unfinished)
            )
            await asyncio.wait(unfinished)
