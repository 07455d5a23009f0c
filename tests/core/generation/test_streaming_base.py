"""Every HTTP backend streams through `StreamingBackend`: stop texts trimmed, partial text kept."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from core.errors import ReplicaUnreachable, StreamInterrupted
from core.generation.base import GenerationParams
from core.generation.openai_completions import OpenAICompletionsGenerator
from core.generation.streaming import StreamingBackend
from core.generation.tgi import TgiGenerator
from tests.fakes.openai_completions import FakeCompletions
from tests.fakes.tgi import FakeTGI, Script

Pieces = list[str]
Backend = Callable[[Pieces, int | None], AbstractAsyncContextManager[StreamingBackend]]


@asynccontextmanager
async def tgi_backend(pieces: Pieces, drop_after: int | None) -> AsyncIterator[StreamingBackend]:
    script = Script(reply=pieces, drop_after=drop_after)
    async with FakeTGI(default=script) as server, TgiGenerator(server.url) as generator:
        yield generator


@asynccontextmanager
async def openai_backend(pieces: Pieces, drop_after: int | None) -> AsyncIterator[StreamingBackend]:
    async with FakeCompletions(lambda _prompt: pieces, model="bloomchat") as server:
        server.drop_after = drop_after
        async with OpenAICompletionsGenerator(server.url, model="bloomchat") as generator:
            yield generator


BACKENDS = pytest.mark.parametrize("backend", [tgi_backend, openai_backend], ids=["tgi", "openai"])


async def pieces_of(generator: StreamingBackend, shown: list[str]) -> None:
    async for token in generator.stream("<human>: hi\n<bot>:", GenerationParams()):
        shown.append(token.text)


@BACKENDS
async def test_a_stream_broken_after_text_counts_the_text_it_showed(backend: Backend) -> None:
    async with backend(["one", " two", " three", " four"], 2) as generator:
        shown: list[str] = []
        with pytest.raises(StreamInterrupted) as caught:
            await pieces_of(generator, shown)
    assert "".join(shown) == "one two"
    assert caught.value.delivered_chars == len("one two")


@BACKENDS
async def test_a_long_stream_broken_counts_all_of_its_text(backend: Backend) -> None:
    pieces = [f" w{n}" for n in range(150)]
    async with backend(pieces, 140) as generator:
        shown: list[str] = []
        with pytest.raises(StreamInterrupted) as caught:
            await pieces_of(generator, shown)
    assert "".join(shown) == "".join(pieces[:140])
    assert caught.value.delivered_chars == len("".join(pieces[:140]))


@BACKENDS
async def test_a_stream_broken_before_any_text_is_retryable(backend: Backend) -> None:
    async with backend(["one", " two"], 0) as generator:
        with pytest.raises(ReplicaUnreachable) as caught:
            await pieces_of(generator, [])
    assert caught.value.retryable


@BACKENDS
async def test_a_stop_text_across_pieces_is_never_shown(backend: Backend) -> None:
    async with backend(["Done", ".\n<hu", "man>: and", " more"], None) as generator:
        shown: list[str] = []
        await pieces_of(generator, shown)
    assert "".join(shown) == "Done.\n"
