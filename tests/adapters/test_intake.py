"""The intake's guarantee: claimed in progress, then done; order per chat; capacity; floods.

The claims live in a real MemoryStore on a clock the test moves (the Store contract shows
RedisStore keeps claims the same way); the handler makes the calls DialogManager makes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from adapters.intake import EventIntake, IntakeLimits
from core.errors import PlatformError
from core.messages import ConversationRef, IncomingMessage, Sender
from core.store.memory import MemoryStore
from tests.adapters.test_feedback import StoreHandler
from tests.core.store.conftest import ManualClock

PLATFORM = "acme"


def message(chat: str, number: int) -> IncomingMessage:
    return IncomingMessage(
        id=str(number),
        conversation=ConversationRef(PLATFORM, None, chat),
        sender=Sender("u1", locale_hint="es"),
        text=f"message {number}",
        sent_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


class Answers:
    """Records answered messages; chats named in `blocked` wait until released."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.blocked: dict[str, asyncio.Event] = {}
        self.changed = asyncio.Condition()
        self.refused: list[str] = []
        self.fail_with: Exception | None = None

    async def _note(self, into: list[str], item: str) -> None:
        into.append(item)
        async with self.changed:
            self.changed.notify_all()

    async def answer(self, incoming: IncomingMessage) -> None:
        await self._note(self.started, incoming.text)
        release = self.blocked.get(incoming.conversation.channel)
        if release is not None:
            await release.wait()
        if self.fail_with is not None:
            raise self.fail_with
        await self._note(self.finished, incoming.text)

    async def refuse(self, incoming: IncomingMessage) -> None:
        await self._note(self.refused, incoming.text)

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(5), self.changed:
            await self.changed.wait_for(condition)


async def never(seconds: float) -> None:
    """A sleep that does not end: claims are renewed only where a test moves time itself."""
    await asyncio.Event().wait()


def make_intake(
    handler: StoreHandler,
    answers: Answers,
    limits: IntakeLimits | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> EventIntake:
    return EventIntake(
        handler,
        platform=PLATFORM,
        answer=answers.answer,
        refuse=answers.refuse,
        limits=limits or IntakeLimits(drain_seconds=5),
        sleep=sleep or never,
    )


async def claimed(store: MemoryStore, event_id: str) -> bool:
    """Whether the event is still claimed (probing with a claim that is dropped at once)."""
    key = f"{PLATFORM}:{event_id}"
    if await store.claim(key, 1):
        await store.hold_claim(key, 1)
        return False
    return True


async def test_an_answered_event_is_done_and_a_redelivery_is_not_answered() -> None:
    clock = ManualClock()
    store = MemoryStore(clock=clock)
    answers = Answers()
    intake = make_intake(StoreHandler(store), answers)
    intake.submit("e1", message("a", 1))
    await intake.close()
    clock.advance(3600)  # long past the in-progress expiry: the claim is now "done"
    again = make_intake(StoreHandler(store), answers)
    again.submit("e1", message("a", 1))
    await again.close()
    assert answers.finished == ["message 1"]


async def test_a_process_dying_mid_answer_leaves_a_short_claim_and_the_redelivery_is_answered() -> (
    None
):
    clock = ManualClock()
    store = MemoryStore(clock=clock)
    answers = Answers()
    answers.blocked["a"] = asyncio.Event()  # never released: this process "dies" mid-answer
    dying = make_intake(StoreHandler(store), answers, IntakeLimits(drain_seconds=0))
    dying.submit("e1", message("a", 1))
    await answers.wait_until(lambda: answers.started == ["message 1"])
    await dying.close()  # the reply is cancelled; its claim stays "in progress"
    del answers.blocked["a"]

    restarted = make_intake(StoreHandler(store), answers)
    restarted.submit("e1", message("a", 1))  # redelivered while the claim is fresh: skipped
    await restarted.close()
    assert answers.finished == []
    clock.advance(61)  # the in-progress claim expired
    late = make_intake(StoreHandler(store), answers)
    late.submit("e1", message("a", 1))
    await late.close()
    assert answers.finished == ["message 1"]


async def test_a_failed_answer_leaves_the_claim_to_expire() -> None:
    clock = ManualClock()
    store = MemoryStore(clock=clock)
    answers = Answers()
    answers.fail_with = PlatformError("the platform is down")
    intake = make_intake(StoreHandler(store), answers)
    intake.submit("e1", message("a", 1))
    await intake.close()
    assert await claimed(store, "e1")
    clock.advance(61)
    assert not await claimed(store, "e1")


async def test_a_long_answer_keeps_its_claim_renewed() -> None:
    clock = ManualClock()
    store = MemoryStore(clock=clock)
    handler = StoreHandler(store)
    answers = Answers()
    answers.blocked["a"] = asyncio.Event()
    ticks: asyncio.Queue[float] = asyncio.Queue()

    async def sleep(seconds: float) -> None:
        assert seconds == 20  # a third of the in-progress claim
        await ticks.get()

    intake = make_intake(handler, answers, sleep=sleep)
    intake.submit("e1", message("a", 1))
    await answers.wait_until(lambda: bool(answers.started))
    for renewal in range(1, 4):  # 50 s apart: 150 s in all, far past the 60 s claim
        clock.advance(50)
        ticks.put_nowait(50)
        await handler.wait_for_holds(renewal)
        assert await claimed(store, "e1")
    answers.blocked["a"].set()
    await intake.close()
    assert handler.holds == [60, 60, 60, None]  # renewed in progress, then done
    assert answers.finished == ["message 1"]


async def test_a_message_is_answered_when_the_claim_cannot_be_made() -> None:
    answers = Answers()
    intake = make_intake(StoreHandler(MemoryStore(), claims_fail=True), answers)
    intake.submit("e1", message("a", 1))
    await intake.close()
    assert answers.finished == ["message 1"]


async def test_a_chat_is_answered_in_order_and_its_queue_takes_no_capacity_from_others() -> None:
    answers = Answers()
    answers.blocked["a"] = asyncio.Event()
    limits = IntakeLimits(max_active_replies=2, max_waiting_per_conversation=8, drain_seconds=5)
    intake = make_intake(StoreHandler(MemoryStore()), answers, limits)
    for number in range(1, 7):
        intake.submit(f"a{number}", message("a", number))
    intake.submit("b1", message("b", 100))
    await answers.wait_until(lambda: "message 100" in answers.finished)
    assert answers.started == ["message 1", "message 100"]
    answers.blocked["a"].set()
    await intake.close()
    assert answers.finished[1:] == [f"message {n}" for n in range(1, 7)]


async def test_a_flooding_chat_is_refused_at_once_and_told_once() -> None:
    answers = Answers()
    answers.blocked["a"] = asyncio.Event()
    limits = IntakeLimits(max_waiting_per_conversation=3, drain_seconds=5)
    intake = make_intake(StoreHandler(MemoryStore()), answers, limits)
    accepted = [intake.submit(f"a{n}", message("a", n)) for n in range(1, 3)]
    await answers.wait_until(lambda: answers.started == ["message 1"])
    accepted += [intake.submit(f"a{n}", message("a", n)) for n in range(3, 10)]
    await answers.wait_until(lambda: bool(answers.refused))
    assert accepted == [True] * 4 + [False] * 5  # one answering, three waiting, five refused
    assert answers.refused == ["message 5"] and intake.refused == 5
    answers.blocked["a"].set()
    await intake.close()
    assert answers.finished == [f"message {n}" for n in range(1, 5)]
    assert not intake.submit("late", message("a", 99))  # closed: nothing new is taken


async def test_a_waiting_platform_learns_each_fate_and_a_refused_event_is_taken_again() -> None:
    clock = ManualClock()
    store = MemoryStore(clock=clock)
    answers = Answers()
    intake = make_intake(StoreHandler(store), answers)
    assert await intake.submit_and_wait("e1", message("a", 1))
    assert await intake.submit_and_wait("e1", message("a", 1))  # a repeat: answered already
    answers.fail_with = PlatformError("the queue is down")
    assert not await intake.submit_and_wait("e2", message("a", 2))
    # The refused event's claim is cut short, so the redelivery the platform makes is taken.
    clock.advance(1)
    answers.fail_with = None
    assert await intake.submit_and_wait("e2", message("a", 2))
    await intake.close()
    assert answers.finished == ["message 1", "message 2"]


async def test_events_still_waiting_at_shutdown_are_refused_for_redelivery() -> None:
    answers = Answers()
    answers.blocked["a"] = asyncio.Event()  # never released
    intake = make_intake(StoreHandler(MemoryStore()), answers, IntakeLimits(drain_seconds=0))
    first = asyncio.create_task(intake.submit_and_wait("e1", message("a", 1)))
    second = asyncio.create_task(intake.submit_and_wait("e2", message("a", 2)))
    await answers.wait_until(lambda: answers.started == ["message 1"])
    await intake.close()
    assert await first is False and await second is False
    assert not await intake.submit_and_wait("e3", message("b", 3))  # closed: come again


async def test_a_failed_claim_renewal_does_not_keep_a_conversation_going_at_shutdown() -> None:
    answers = Answers()
    answers.blocked["a"] = asyncio.Event()  # never released
    renewal_failed = asyncio.Event()

    async def broken_sleep(seconds: float) -> None:
        renewal_failed.set()
        raise RuntimeError("no clock")

    limits = IntakeLimits(drain_seconds=0)
    intake = make_intake(StoreHandler(MemoryStore()), answers, limits, sleep=broken_sleep)
    intake.submit("e1", message("a", 1))
    intake.submit("e2", message("a", 2))
    await answers.wait_until(lambda: answers.started == ["message 1"])
    await renewal_failed.wait()
    async with asyncio.timeout(5):
        await intake.close()  # the reply is cancelled; the next message is not started
    assert answers.started == ["message 1"]
