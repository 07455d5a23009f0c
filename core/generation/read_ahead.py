"""`ReadAhead`: a token stream read in its own task, taken in batches of whatever has arrived.

Guards judge the whole reply so far, so judging after every token costs as much for a token as
for a sentence. When tokens arrive faster than they are judged (a fast model, a busy process),
the reader task keeps reading while the consumer works, and the consumer takes everything that
arrived as one step. When tokens arrive slowly, each batch holds one token and nothing waits:
the consumer is woken as soon as the first token of a batch is there.

The reader stops after `limit` unconsumed tokens, so a consumer that decides to stop (a guard
cut) has not made the model generate much further than it would have token by token.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from types import TracebackType
from typing import Self

from core.errors import ConfigurationError
from core.generation.base import Token

DEFAULT_LIMIT = 32


class ReadAhead:
    """`async with ReadAhead(stream) as batches: async for tokens in batches: ...`.

    Each batch is a non-empty list of tokens in stream order. An error the stream raises comes
    after the tokens before it, as it would token by token. Leaving the block stops the reader
    and closes the stream (which stops the generation).
    """

    def __init__(self, tokens: AsyncGenerator[Token, None], *, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ConfigurationError(f"read-ahead limit must be at least 1, not {limit}")
        self._tokens = tokens
        self._limit = limit
        self._ready: list[Token] = []
        self._error: Exception | None = None
        self._ended = False
        # Set by the reader when a token or the end arrived; by the consumer when room freed.
        self._arrived = asyncio.Event()
        self._room = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        reader = self._reader
        if reader is not None and not reader.done():
            reader.cancel()
            # `wait` does not raise the reader's cancellation, only our own (if we are cancelled).
            await asyncio.wait([reader])
        await self._tokens.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> list[Token]:
        while not self._ready:
            if self._ended:
                error, self._error = self._error, None
                if error is not None:
                    raise error
                raise StopAsyncIteration
            self._arrived.clear()
            await self._arrived.wait()
        batch, self._ready = self._ready, []
        self._room.set()
        return batch

    async def _read(self) -> None:
        try:
            async for token in self._tokens:
                self._ready.append(token)
                self._arrived.set()
                if len(self._ready) >= self._limit:
                    self._room.clear()
                    await self._room.wait()
        except Exception as exc:  # handed to the consumer, after the tokens read before it
            self._error = exc
        finally:
            self._ended = True
            self._arrived.set()
