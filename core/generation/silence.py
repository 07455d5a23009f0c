"""`SilenceLimit`: one timer for a whole stream phase that ends a read after too long a silence.

A fresh `asyncio.timeout` per token costs a timer handle, a heap push and a cancel each time.
Here each read only notes when it began; a single timer wakes once per `limit` seconds, and only
if the read then waiting began more than `limit` ago does it cancel the reading task, which
`read` reports as `TimeoutError`. Time spent by the consumer between reads is not silence.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self, TypeVar

_T = TypeVar("_T")


class SilenceLimit:
    """Use as `with SilenceLimit(30.0) as silence: ... await silence.read(chunks) ...`."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[object] | None = None
        self._read_began: float | None = None
        self._expired = False
        self._timer: asyncio.TimerHandle | None = None

    def __enter__(self) -> Self:
        self._timer = self._loop.call_at(self._loop.time() + self.limit, self._check)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        now = self._loop.time()
        began = self._read_began
        if began is not None and now - began >= self.limit and self._task is not None:
            self._expired = True
            self._task.cancel()
            self._timer = None
            return
        wake = (began if began is not None else now) + self.limit
        self._timer = self._loop.call_at(wake, self._check)

    async def read(self, source: AsyncIterator[_T]) -> _T:
        """The next item of `source`; TimeoutError if it takes more than `limit` seconds.

        Raises StopAsyncIteration when `source` ends.
        """
        self._task = asyncio.current_task()
        self._read_began = self._loop.time()
        try:
            return await anext(source)
        except asyncio.CancelledError:
            if self._expired and self._task is not None and self._task.uncancel() == 0:
                raise TimeoutError(f"silent for {self.limit:g}s") from None
            raise
        finally:
            self._read_began = None
