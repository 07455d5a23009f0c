"""Per-conversation ordering: one reply at a time in a conversation, others run alongside."""

from __future__ import annotations

import asyncio

from core.ordering import ConversationLocks, ConversationQueues


async def test_a_conversation_is_served_in_arrival_order_and_others_are_not_held() -> None:
    locks = ConversationLocks()
    release = asyncio.Event()
    order: list[str] = []

    async def answer(key: str, name: str, wait: bool) -> None:
        async with locks.hold(key):
            order.append(f"start {name}")
            if wait:
                await release.wait()
            order.append(f"end {name}")

    first = asyncio.create_task(answer("chat-1", "a1", wait=True))
    second = asyncio.create_task(answer("chat-1", "a2", wait=False))
    other = asyncio.create_task(answer("chat-2", "b1", wait=False))
    await other  # another conversation is answered while chat-1 is busy
    assert order == ["start a1", "start b1", "end b1"]
    release.set()
    await asyncio.gather(first, second)
    assert order[3:] == ["end a1", "start a2", "end a2"]
    assert len(locks) == 0  # nothing is kept for idle conversations


async def test_queues_refuse_beyond_the_waiting_bound_and_cancel_after_the_grace() -> None:
    started: list[int] = []
    never = asyncio.Event()

    async def run(item: int) -> None:
        started.append(item)
        await never.wait()

    queues: ConversationQueues[int] = ConversationQueues(run, capacity=4, max_waiting=2)
    assert queues.offer("chat", 1)
    await asyncio.sleep(0)  # the worker takes item 1; two may wait behind it
    assert [queues.offer("chat", n) for n in (2, 3, 4)] == [True, True, False]
    assert queues.waiting("chat") == 2 and len(queues) == 1
    await queues.close(grace_seconds=0)
    assert started == [1]
    assert len(queues) == 0
    assert not queues.offer("chat", 5)
