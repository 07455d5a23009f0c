"""Per-conversation ordering: one reply at a time in a conversation, others run alongside."""

from __future__ import annotations

import asyncio

from core.ordering import ConversationLocks


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
