"""The rate gate and the reply pacer, on a virtual clock: slots, merging, flood waits, final text."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest

from adapters.pacer import RateGate, RateLimited, ReplyPacer
from core.errors import PlatformError, StoreError
from core.messages import FinishReason, Reply, ReplyEvent, ReplyStream
from core.notices import notice
from tests.adapters.contract import VirtualClock

FINAL = Reply("one two three four", "en", FinishReason.STOP, ("a notice",), "r1")


class Publisher:
    """Records what the pacer publishes, at which virtual time; can refuse with flood waits."""

    def __init__(self, gate: RateGate, chat: str, interval: float) -> None:
        self.gate = gate
        self.chat = chat
        self.interval = interval
        self.published: list[tuple[float, str, bool]] = []
        self.floods: list[float] = []
        self.errors: list[PlatformError] = []

    async def __call__(self, text: str, final: Reply | None) -> None:
        await self.gate.acquire(self.chat, self.interval)
        if self.floods:
            raise RateLimited("flood", retry_after=self.floods.pop(0))
        if self.errors:
            raise self.errors.pop(0)
        self.published.append((self.gate.clock.now(), text, final is not None))


async def scripted(
    snapshots: list[str], gate: asyncio.Event | None = None
) -> AsyncIterator[ReplyEvent]:
    for index, snapshot in enumerate(snapshots):
        if gate is not None and index == 2:
            await gate.wait()
        yield snapshot
    yield FINAL


def snapshots() -> list[str]:
    words = FINAL.text.split()
    return [" ".join(words[: n + 1]) for n in range(len(words))]


async def test_gate_spaces_a_chat_and_shares_the_global_budget() -> None:
    clock = VirtualClock(start=0.0)
    gate = RateGate(calls_per_second=10, clock=clock)
    times = []
    for chat in ["a", "a", "b", "a"]:
        await gate.acquire(chat, 1.0)
        times.append(clock.now())
    assert times == [0.0, 1.0, 1.1, 2.0]


class HeldClock:
    """A clock whose sleeps stay pending, so a test can see what each caller waits for."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def now(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.Event().wait()


async def test_a_chat_waiting_for_its_interval_does_not_hold_back_other_chats() -> None:
    clock = HeldClock()
    gate = RateGate(calls_per_second=10, clock=clock)
    await gate.acquire("a", 3.0)
    waiting = [asyncio.create_task(gate.acquire(chat, 3.0)) for chat in ("a", "b")]
    await asyncio.sleep(0)
    assert clock.waits == [3.0, pytest.approx(0.1)]
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)


async def test_gate_pause_holds_only_that_chat() -> None:
    clock = VirtualClock(start=0.0)
    gate = RateGate(calls_per_second=1000, clock=clock)
    gate.pause("a", 30)
    await gate.acquire("b", 1.0)
    assert clock.now() == 0.0
    await gate.acquire("a", 1.0)
    assert clock.now() == 30.0


async def test_every_published_text_differs_and_the_final_comes_last() -> None:
    clock = VirtualClock(start=0.0)
    gate = RateGate(calls_per_second=30, clock=clock)
    publish = Publisher(gate, "chat", 1.0)
    repeated = ["one", "one", "one two", "one two", "one two three"]
    reply = await ReplyPacer(gate).deliver(ReplyStream(scripted(repeated)), publish, chat="chat")
    assert reply == FINAL
    texts = [text for _, text, _ in publish.published]
    assert len(texts) == len(set(texts))
    assert publish.published[-1][1:] == (FINAL.display_text, True)
    moments = [at for at, _, _ in publish.published]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(moments))


async def test_snapshots_arriving_while_a_text_is_sent_are_merged_into_the_newest() -> None:
    clock = VirtualClock(start=0.0)
    gate = RateGate(calls_per_second=30, clock=clock)
    sent_first = asyncio.Event()

    class SignallingPublisher(Publisher):
        async def __call__(self, text: str, final: Reply | None) -> None:
            await super().__call__(text, final)
            sent_first.set()

    async def burst() -> AsyncIterator[ReplyEvent]:
        yield "one"
        await sent_first.wait()
        # The model outruns the chat's budget: three snapshots before the next slot.
        yield "one two"
        yield "one two three"
        yield FINAL

    publish = SignallingPublisher(gate, "chat", 1.0)
    await ReplyPacer(gate).deliver(ReplyStream(burst()), publish, chat="chat")
    assert [text for _, text, _ in publish.published] == ["one", FINAL.display_text]


async def test_flood_wait_pauses_the_chat_and_the_text_is_sent_after_it() -> None:
    clock = VirtualClock(start=0.0)
    gate = RateGate(calls_per_second=30, clock=clock)
    publish = Publisher(gate, "chat", 1.0)
    publish.floods = [12.0]
    await ReplyPacer(gate).deliver(ReplyStream(scripted(snapshots())), publish, chat="chat")
    assert publish.published[0][0] >= 12.0
    assert publish.published[-1][1] == FINAL.display_text


async def test_final_text_waits_out_repeated_flood_waits_then_gives_up() -> None:
    clock = VirtualClock(start=0.0)
    gate = RateGate(calls_per_second=30, clock=clock)
    publish = Publisher(gate, "chat", 1.0)
    publish.floods = [5.0] * 3
    await ReplyPacer(gate).deliver(ReplyStream.of(FINAL), publish, chat="chat")
    assert [text for _, text, _ in publish.published] == [FINAL.display_text]
    assert clock.now() >= 15.0

    publish.floods = [1.0] * 10
    with pytest.raises(PlatformError, match="still rate limited"):
        await ReplyPacer(gate, max_final_attempts=4).deliver(
            ReplyStream.of(FINAL), publish, chat="chat"
        )


async def test_a_failed_partial_update_does_not_stop_the_reply() -> None:
    clock = VirtualClock(start=0.0)
    gate = RateGate(calls_per_second=30, clock=clock)
    attempted = asyncio.Event()

    class FlakyPublisher(Publisher):
        async def __call__(self, text: str, final: Reply | None) -> None:
            attempted.set()
            await super().__call__(text, final)

    async def lockstep() -> AsyncIterator[ReplyEvent]:
        for snapshot in snapshots():
            attempted.clear()
            yield snapshot
            await attempted.wait()  # the next token comes once this one was tried
        yield FINAL

    publish = FlakyPublisher(gate, "chat", 1.0)
    publish.errors = [PlatformError("network hiccup")]
    reply = await ReplyPacer(gate).deliver(ReplyStream(lockstep()), publish, chat="chat")
    assert reply == FINAL
    texts = [text for _, text, _ in publish.published]
    assert texts == [*snapshots()[1:], FINAL.display_text]


async def test_waiting_signal_is_sent_until_the_first_text() -> None:
    clock = VirtualClock(start=0.0)
    gate = RateGate(calls_per_second=30, clock=clock)
    publish = Publisher(gate, "chat", 1.0)
    release = asyncio.Event()
    signals: list[int] = []

    async def typing() -> None:
        signals.append(len(publish.published))
        release.set()

    async def slow_start() -> AsyncIterator[ReplyEvent]:
        await release.wait()  # the model's first token comes after the typing signal
        yield "first"
        yield FINAL

    await ReplyPacer(gate, waiting_signal_interval=60).deliver(
        ReplyStream(slow_start()), publish, chat="chat", on_waiting=typing
    )
    assert signals == [0]


async def test_closing_early_closes_the_stream() -> None:
    clock = VirtualClock(start=0.0)
    gate = RateGate(calls_per_second=30, clock=clock)
    closed = asyncio.Event()

    async def endless() -> AsyncIterator[ReplyEvent]:
        try:
            while True:
                yield "more"
                await asyncio.sleep(0)
        finally:
            closed.set()

    async def failing(text: str, final: Reply | None) -> None:
        raise ValueError("adapter bug")

    with pytest.raises(ValueError, match="adapter bug"):
        await ReplyPacer(gate).deliver(ReplyStream(endless()), failing, chat="chat")
    assert closed.is_set()


async def test_a_stream_failing_mid_reply_ends_with_the_cleared_text_and_a_notice() -> None:
    clock = VirtualClock(start=0.0)
    gate = RateGate(calls_per_second=30, clock=clock)
    publisher = Publisher(gate, "chat", 1.0)

    async def breaks() -> AsyncIterator[ReplyEvent]:
        yield "The first sentence."
        yield "The first sentence. The second"
        raise StoreError("Redis went away while the turn was recorded")

    async with asyncio.timeout(5):
        reply = await ReplyPacer(gate).deliver(
            ReplyStream(breaks()), publisher, chat="chat", fallback_language="fr"
        )
    assert reply.finish_reason is FinishReason.INTERRUPTED
    assert reply.text == "The first sentence. The second"
    assert reply.notices == (notice("interrupted", "fr"),)
    _, final_text, is_final = publisher.published[-1]
    assert is_final and final_text == reply.display_text


async def test_a_stream_failing_before_any_text_ends_with_a_notice_alone() -> None:
    clock = VirtualClock(start=0.0)
    gate = RateGate(calls_per_second=30, clock=clock)
    publisher = Publisher(gate, "chat", 1.0)

    async def fails_at_once() -> AsyncIterator[ReplyEvent]:
        raise StoreError("no history")
        yield "never"

    async def ends_without_reply() -> AsyncIterator[ReplyEvent]:
        yield "half"

    async with asyncio.timeout(5):
        first = await ReplyPacer(gate).deliver(ReplyStream(fails_at_once()), publisher, chat="c")
        second = await ReplyPacer(gate).deliver(
            ReplyStream(ends_without_reply()), publisher, chat="d"
        )
    assert (first.finish_reason, first.text) == (FinishReason.ERROR, "")
    assert first.notices == (notice("model_error", "en"),)
    assert second.finish_reason is FinishReason.INTERRUPTED and second.text == "half"
    assert [text for _, text, final in publisher.published if final] == [
        first.display_text,
        second.display_text,
    ]


async def test_a_space_budget_spaces_chats_of_one_space_but_not_others() -> None:
    clock = VirtualClock(start=0.0)
    gate = RateGate(calls_per_second=100, space_calls_per_second=1, clock=clock)
    await gate.acquire("a", 0.0, space="team-1")
    await gate.acquire("b", 0.0, space="team-1")  # another chat, same workspace: waits 1 s
    after_same_space = clock.now()
    await gate.acquire("c", 0.0, space="team-2")  # another workspace: no wait of its own
    assert after_same_space == pytest.approx(1.0)
    assert clock.now() == pytest.approx(1.01)
