"""The repetition guard: loops are cut after their first occurrence; legitimate repetition passes."""

from __future__ import annotations

import asyncio
import random
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from core.dialog import DialogManager
from core.generation.tgi import TgiGenerator
from core.guards.base import VerdictKind
from core.guards.repetition import RepetitionGuard, RepetitionSession
from core.messages import ConversationRef, FinishReason, IncomingMessage, Reply, Sender
from core.store.memory import MemoryStore
from tests.fakes.tgi import FakeTGI, Script


async def stream_through(
    text: str, guard: RepetitionGuard | None = None
) -> tuple[str, str | None, str]:
    """Feed `text` character by character: (kept text, cut reason, last text shown)."""
    session = (guard or RepetitionGuard()).begin(None)  # type: ignore[arg-type]
    shown = ""
    for end in range(1, len(text) + 1):
        verdict = await session.check(text[:end], final=False)
        if verdict.kind is VerdictKind.CUT:
            return text[: verdict.at], verdict.reason, shown
        cleared = end if verdict.cleared is None else verdict.cleared
        shown = text[:end][:cleared]
    verdict = await session.check(text, final=True)
    if verdict.kind is VerdictKind.CUT:
        return text[: verdict.at], verdict.reason, shown
    return text, None, shown


async def test_repeated_sentence_is_cut_after_its_first_occurrence() -> None:
    text = "The sky is blue today. I like walking outside. The sky is blue today. I like walking"
    kept, reason, shown = await stream_through(text)
    assert kept == "The sky is blue today. I like walking outside."
    assert reason == "repeated_sentence"
    assert "blue today. I like walking outside. The" not in shown  # the repeat was never shown


async def test_loop_without_punctuation_is_cut_as_a_phrase() -> None:
    text = "I am a helpful assistant and I am here I am a helpful assistant and I am here I am a"
    kept, reason, _ = await stream_through(text)
    assert kept == "I am a helpful assistant and I am here"
    assert reason == "repeated_phrase"


@pytest.mark.parametrize(
    "text",
    [
        "Steps:\n1. Open the settings page now.\n2. Open the settings page now.\n3. Save.",
        "- Check the cable is plugged in.\n- Check the cable is plugged in.\n- Restart.",
        "```python\nprint('hello world from here')\nprint('hello world from here')\n```\nDone.",
        "    x = compute_the_value(a, b, c)\n    x = compute_the_value(a, b, c)\nThat is it.",
        "| name | the same cell text here |\n| name | the same cell text here |\n",
        "This is very very very very very very very very very very very very very good.",
        "Yes. Yes. Yes. Yes. Yes.",
        "Paris is the capital of France. It has many museums and a long history of art.",
    ],
)
async def test_legitimate_repetition_passes(text: str) -> None:
    kept, reason, _ = await stream_through(text)
    assert reason is None
    assert kept == text


async def test_short_sentences_need_a_configurable_length() -> None:
    text = "Go home now. Go home now. Then rest."
    assert (await stream_through(text))[1] is None
    kept, reason, _ = await stream_through(text, RepetitionGuard(min_sentence_words=3))
    assert (kept, reason) == ("Go home now.", "repeated_sentence")


@pytest.fixture
async def tgi() -> AsyncIterator[FakeTGI]:
    async with FakeTGI() as fake:
        yield fake


async def converse(tgi: FakeTGI) -> tuple[list[str], Reply]:
    async with TgiGenerator(tgi.url) as generator:
        dialog = DialogManager(generator=generator, store=MemoryStore(), guards=[RepetitionGuard()])
        stream = dialog.handle(
            IncomingMessage(
                id="1",
                conversation=ConversationRef("test", None, "c1"),
                sender=Sender(id="u1", locale_hint="en"),
                text="Tell me about the weather",
                sent_at=datetime.now(UTC),
            )
        )
        return [s async for s in stream], stream.reply


async def test_looping_reply_is_cut_and_generation_stops(tgi: FakeTGI) -> None:
    loop = "The weather will be sunny tomorrow. Take a hat with you. "
    # The model would loop on for ever: the server holds until the client leaves.
    tgi.enqueue(Script(reply=loop * 3, hang=asyncio.Event(), hang_after=40))
    snapshots, reply = await converse(tgi)
    assert reply.text == loop.strip()
    assert reply.finish_reason is FinishReason.CUT
    assert all(loop.strip().startswith(s) for s in snapshots)
    record = tgi.streams[-1]
    await asyncio.wait_for(record.finished.wait(), 5)
    assert record.disconnected and not record.completed


async def test_list_and_code_replies_are_not_cut(tgi: FakeTGI) -> None:
    text = (
        "Here are the steps:\n1. Run the install command again.\n2. Run the install command again."
        "\n```\npip install bloombridge\npip install bloombridge\n```\nThat is all."
    )
    tgi.enqueue(Script(reply=text))
    _, reply = await converse(tgi)
    assert reply.text == text
    assert reply.finish_reason is FinishReason.STOP


async def test_chinese_is_shown_character_by_character() -> None:
    session = RepetitionGuard().begin(None)  # type: ignore[arg-type]
    verdict = await session.check("今天天气很好", final=False)
    # Each character is a word of its own: none waits for punctuation.
    assert verdict.kind is VerdictKind.PASS and verdict.cleared == len("今天天气很好")


async def test_a_repeated_chinese_sentence_is_still_cut() -> None:
    text = "今天天气很好，我们去公园散步。今天天气很好，我们去公园散步。"  # noqa: RUF001
    kept, reason, shown = await stream_through(text)
    assert kept == "今天天气很好，我们去公园散步。"  # noqa: RUF001
    assert reason is not None
    assert len(shown) <= len(kept) + 1


def loop_free(words: int, seed: int) -> str:
    """Sentences of eight words drawn from a large vocabulary: no sentence or phrase repeats."""
    rng = random.Random(seed)
    sentences = []
    for _ in range(words // 8):
        sentence = " ".join(f"w{rng.randrange(100_000)}" for _ in range(8))
        sentences.append(sentence.capitalize() + ".")
    return " ".join(sentences)


async def test_a_repeat_within_the_window_is_cut_and_one_beyond_it_is_not() -> None:
    repeated = "The river bends around the old mill every spring."
    guard = RepetitionGuard(window_words=64)
    near = f"{repeated} {loop_free(40, seed=1)} {repeated}"
    far = f"{repeated} {loop_free(120, seed=2)} {repeated}"
    assert (await stream_through(near, guard))[1] == "repeated_sentence"
    assert (await stream_through(far, guard))[1] is None


async def test_memory_a_session_keeps_does_not_grow_with_the_reply() -> None:
    async def kept_bytes(text: str) -> int:
        session = RepetitionGuard().begin(None)  # type: ignore[arg-type]
        tracemalloc.start()
        try:
            verdict = await session.check(text, final=False)
            kept = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        assert verdict.kind is VerdictKind.PASS
        return kept

    short, long = loop_free(512, seed=3), loop_free(5120, seed=4)
    assert await kept_bytes(long) < 1.25 * await kept_bytes(short)


async def held_after(text: str, piece: int, guard: RepetitionGuard) -> int:
    """Stream `text` in pieces of `piece` characters; the hashes the session then holds."""
    session = guard.begin(None)  # type: ignore[arg-type]
    assert isinstance(session, RepetitionSession)
    for end in range(piece, len(text) + piece, piece):
        verdict = await session.check(text[:end], final=False)
        assert verdict.kind is VerdictKind.PASS
    assert (await session.check(text, final=True)).kind is VerdictKind.PASS
    return session.held()


@pytest.mark.parametrize("window", [64, 256])
async def test_what_a_session_holds_stops_growing_once_its_window_is_full(window: int) -> None:
    guard = RepetitionGuard(window_words=window)
    # Sentences of eight words: after 2 windows and after 20, the same number of sentences,
    # words and word runs is remembered.
    filled = await held_after(loop_free(2 * window, seed=5), 37, guard)
    assert filled == await held_after(loop_free(20 * window, seed=6), 37, guard)
    assert filled == await held_after(loop_free(20 * window, seed=7), 1000, guard)
    # Before the window is full, what is held grows with the reply.
    assert await held_after(loop_free(window // 2, seed=8), 37, guard) < filled
