"""Messages put off while every replica is busy: told their place in line once, then answered."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from core.errors import ReplyDeferred
from core.queue.codec import QueuedMessage
from core.queue.streams import MessageQueue
from core.queue.waiting import WaitingLine
from core.queue.worker import QueuedFeedback, current_reply
from core.store.keys import StoreKeys
from tests.core.queue.test_codec_and_streams import message
from tests.core.queue.test_worker import PARTITIONS, Answers, running_worker


async def test_a_message_put_off_is_told_its_place_once_and_its_reply_replaces_the_notice(
    redis_url: str, redis_namespace: str
) -> None:
    answers = Answers()
    told: list[tuple[str, int]] = []
    adopted: dict[str, tuple[str, ...]] = {}
    busy_for = {"1": 3, "2": 2}  # attempts each message is put off
    first_told = asyncio.Event()  # the two run in parallel: the second is put off after

    async def answer(entry: QueuedMessage) -> None:
        message_id = entry.message.id
        if message_id == "2":
            await first_told.wait()
        if busy_for[message_id] > 0:
            busy_for[message_id] -= 1
            raise ReplyDeferred("every replica is busy")
        resumed = current_reply.get()
        assert resumed is not None
        adopted[message_id] = resumed.adopted_ids  # the notice's message, edited into the reply
        await answers.add("w", entry)

    async def tell(entry: QueuedMessage, position: int) -> None:
        told.append((entry.message.id, position))
        first_told.set()
        resumed = current_reply.get()
        assert resumed is not None
        await resumed.record([f"notice-{entry.message.id}"])  # what the platform posted

    async with Redis.from_url(redis_url, decode_responses=True) as client:
        keys = StoreKeys(redis_namespace)
        queue = MessageQueue(
            client, keys, partitions=PARTITIONS, clock=iter([100.0, 101.0]).__next__
        )
        await queue.ensure_groups()
        await queue.append(message("20", "1"))  # queued first: first in line
        await queue.append(message("21", "2"))
        feedback = QueuedFeedback(WaitingLine(client, keys, ttl_seconds=600), tell)
        async with running_worker(client, redis_namespace, "w", answer, feedback=feedback):
            await answers.wait_for(lambda: answers.total() == 2)
        assert sorted(told) == [("1", 1), ("2", 2)]  # once each, however often put off
        assert adopted == {"1": ("notice-1",), "2": ("notice-2",)}
        assert await client.zcard(keys.queue_waiting()) == 0  # both left the line


async def test_the_line_is_ordered_by_when_messages_were_queued(
    redis_url: str, redis_namespace: str
) -> None:
    async with Redis.from_url(redis_url, decode_responses=True) as client:
        keys = StoreKeys(redis_namespace)
        line = WaitingLine(client, keys, ttl_seconds=60)
        early = QueuedMessage("5-0", message("30", "a"), 10.0)
        late = QueuedMessage("1-0", message("31", "b"), 20.0)
        assert await line.join(late) == 1
        assert await line.join(early) == 1  # queued before: ahead of it
        assert await line.join(late) == 2  # joining again keeps its place
        await line.leave(early)
        assert await line.join(late) == 1
        assert 0 < await client.ttl(keys.queue_waiting()) <= 60
