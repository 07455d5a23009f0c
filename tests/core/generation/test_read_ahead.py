"""ReadAhead: tokens that arrived together come as one batch; errors, order and closing hold."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from core.errors import ConfigurationError, StreamInterrupted
from core.generation.base import Token
from core.generation.read_ahead import ReadAhead


class Source:
    """A token stream whose tokens the test releases; records how far it was read and closed."""

    def __init__(self, texts: list[str], *, error_after: int | None = None) -> None:
        self.texts = texts
        self.error_after = error_after
        self.released = asyncio.Event()
        self.sent = 0
        self.closed = False

    async def tokens(self) -> AsyncGenerator[Token, None]:
        try:
            for index, text in enumerate(self.texts):
                if self.error_after is not None and index == self.error_after:
                    raise StreamInterrupted(
                        "broke", delivered_chars=len("".join(self.texts[:index]))
                    )
                self.sent += 1
                yield Token(text)
        finally:
            self.closed = True

    async def gated(self) -> AsyncGenerator[Token, None]:
        """One token each time the test sets `released`."""
        try:
            for text in self.texts:
                await self.released.wait()
                self.released.clear()
                self.sent += 1
                yield Token(text)
        finally:
            self.closed = True


async def test_tokens_that_arrived_together_come_as_one_batch_within_the_limit() -> None:
    source = Source([str(n) for n in range(10)])
    async with ReadAhead(source.tokens(), limit=4) as batches:
        sizes = [len(batch) async for batch in batches]
    assert sizes == [4, 4, 2]
    assert source.closed


async def test_limit_one_is_token_by_token() -> None:
    source = Source(["a", "b", "c"])
    async with ReadAhead(source.tokens(), limit=1) as batches:
        texts = [[token.text for token in batch] async for batch in batches]
    assert texts == [["a"], ["b"], ["c"]]


async def test_a_slow_stream_is_handed_on_token_by_token_without_waiting_for_more() -> None:
    source = Source(["a", "b"])
    async with ReadAhead(source.gated()) as batches:
        source.released.set()
        first = await anext(batches)
        assert [token.text for token in first] == ["a"]
        source.released.set()
        second = await anext(batches)
        assert [token.text for token in second] == ["b"]
        with pytest.raises(StopAsyncIteration):
            await anext(batches)


async def test_an_error_comes_after_the_tokens_read_before_it() -> None:
    source = Source(["a", "b", "c"], error_after=2)
    seen: list[str] = []
    with pytest.raises(StreamInterrupted):
        async with ReadAhead(source.tokens()) as batches:
            async for batch in batches:
                seen.extend(token.text for token in batch)
    assert seen == ["a", "b"]


async def test_leaving_early_stops_the_reader_and_closes_the_stream() -> None:
    source = Source([str(n) for n in range(100)])
    async with ReadAhead(source.tokens(), limit=8) as batches:
        first = await anext(batches)
    assert len(first) == 8
    assert source.closed
    # The reader stopped at the limit: it did not read the whole stream ahead.
    assert source.sent <= 2 * 8


async def test_leaving_while_the_reader_waits_for_a_token_closes_the_stream() -> None:
    source = Source(["a", "b"])
    async with ReadAhead(source.gated()) as batches:
        source.released.set()
        await anext(batches)
    assert source.closed and source.sent == 1


def test_the_limit_must_be_positive() -> None:
    async def empty() -> AsyncGenerator[Token, None]:
        return
        yield Token("")

    with pytest.raises(ConfigurationError, match="at least 1"):
        ReadAhead(empty(), limit=0)
