"""A task cancelled during a call that swallows the cancellation still stops (Python 3.11)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis

from core.cancellation import cancellation_kept
from core.messages import ConversationRef, PlaceKind
from core.queue.streams import MessageQueue
from core.store.keys import StoreKeys
from core.store.redis import RedisStore

Call = Callable[[], Awaitable[object]]


async def swallowing_call() -> str:
    """What Python 3.11's asyncio.wait_for does when its inner call has just finished."""
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        return "finished anyway"
    return "finished"


async def cancel_while_calling(call: Call, *, steps: int) -> asyncio.Task[str]:
    """Run `call` over and over in a task, cancel it after `steps` loop steps, let it end."""

    async def calling() -> str:
        for _ in range(200):
            await call()
        return "ran on after it was cancelled"

    task = asyncio.create_task(calling())
    for _ in range(steps):
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.wait([task])
    return task


async def test_a_swallowed_cancellation_is_raised_on_leaving_the_block() -> None:
    async def kept() -> object:
        with cancellation_kept():
            return await swallowing_call()

    task = await cancel_while_calling(kept, steps=1)
    assert task.cancelled()


async def test_without_the_block_the_task_runs_on() -> None:
    # The failure this module exists for, shown directly.
    task = await cancel_while_calling(swallowing_call, steps=1)
    assert task.result() == "ran on after it was cancelled"


async def test_an_error_inside_a_cancelled_block_gives_way_to_the_cancellation() -> None:
    async def failing() -> object:
        with cancellation_kept():
            await swallowing_call()
            raise ValueError("the call failed")

    task = await cancel_while_calling(failing, steps=1)
    assert task.cancelled()


async def test_a_block_that_is_not_cancelled_returns_and_fails_as_usual() -> None:
    with cancellation_kept():
        await asyncio.sleep(0)
    with pytest.raises(ValueError), cancellation_kept():
        raise ValueError("plain failure")


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 6, 8])
async def test_a_store_call_cancelled_midway_stops_the_task(
    redis_url: str, redis_namespace: str, steps: int
) -> None:
    conversation = ConversationRef("telegram", None, "cancel", kind=PlaceKind.PRIVATE)
    async with RedisStore(redis_url, namespace=redis_namespace) as store:
        await store.ping()
        task = await cancel_while_calling(lambda: store.language(conversation), steps=steps)
    assert task.cancelled()


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 6, 8])
async def test_a_queue_call_cancelled_midway_stops_the_task(
    redis_url: str, redis_namespace: str, steps: int
) -> None:
    # The same socket timeout as the workers' queue client: redis-py then sends through wait_for.
    async with Redis.from_url(redis_url, decode_responses=True, socket_timeout=5.0) as client:
        queue = MessageQueue(client, StoreKeys(redis_namespace), partitions=2)
        await queue.ensure_groups()
        task = await cancel_while_calling(queue.backlog, steps=steps)
    assert task.cancelled()
