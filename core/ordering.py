"""One reply at a time per conversation, in arrival order, while other conversations run freely."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


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
