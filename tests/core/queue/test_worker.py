"""Queue workers in one event loop against a real Redis: order, sharing, lost leases, deferral.

The tests with real worker processes (SIGKILL, Redis restart) are tests/bots/test_scale_out.py.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from redis.asyncio import Redis

from core.errors import ReplyDeferred
from core.queue.codec import QueuedMessage
from core.queue.leases import PartitionLeases, assignment
from core.queue.ledger import ReplyLedger
from core.queue.streams import GROUP, MessageQueue
from core.queue.worker import QueuedFeedback, QueueWorker, WorkerLimits, current_reply
from core.store.keys import StoreKeys
from tests.core.queue.test_codec_and_streams import message

PARTITIONS = 8
# Renewals every 0.67 s: a lease taken by someone else is noticed within that; a loaded
# machine may starve the loop for a while, which must not cost a lease.
LIMITS = WorkerLimits(lease_seconds=2.0, max_in_flight=8, retry_seconds=0.05, drain_seconds=2.0)
WAIT = 10.0


@dataclass
class Answers:
    """What the workers answered, waited on with a condition (no sleeps)."""

    by_conversation: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    by_worker: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def add(self, worker: str, entry: QueuedMessage) -> None:
        async with self.changed:
            self.by_conversation[entry.message.conversation.key].append(entry.message.id)
            self.by_worker[worker] += 1
            self.changed.notify_all()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT), self.changed:
            await self.changed.wait_for(condition)

    def total(self) -> int:
        return sum(len(ids) for ids in self.by_conversation.values())


@asynccontextmanager
async def running_worker(
    client: Redis,
    namespace: str,
    worker_id: str,
    answer: Callable[[QueuedMessage], Awaitable[None]],
    *,
    feedback: QueuedFeedback | None = None,
) -> AsyncIterator[QueueWorker]:
    keys = StoreKeys(namespace)
    queue = MessageQueue(client, keys, partitions=PARTITIONS)
    leases = PartitionLeases(
        client, keys, worker_id=worker_id, partitions=PARTITIONS, lease_seconds=LIMITS.lease_seconds
    )
    ledger = ReplyLedger(client, keys, ttl_seconds=600)
    worker = QueueWorker(queue, leases, ledger, answer, limits=LIMITS, feedback=feedback)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        task.cancel()
        await asyncio.wait([task], timeout=WAIT)


async def test_rendezvous_moves_only_the_partitions_of_a_worker_that_left() -> None:
    three = assignment(["a", "b", "c"], 64)
    two = assignment(["a", "b"], 64)
    assert set(three.values()) == {"a", "b", "c"}
    assert all(two[p] == owner for p, owner in three.items() if owner != "c")


async def test_two_workers_answer_every_message_once_in_order(
    redis_url: str, redis_namespace: str
) -> None:
    answers = Answers()
    async with Redis.from_url(redis_url, decode_responses=True) as client:
        queue = MessageQueue(client, StoreKeys(redis_namespace), partitions=PARTITIONS)
        await queue.ensure_groups()
        sent: dict[str, list[str]] = defaultdict(list)
        for n in range(60):
            chat = str(1000 + n % 12)
            queued = message(chat, str(n))
            await queue.append(queued)
            sent[queued.conversation.key].append(queued.id)

        def answering(worker: str) -> Callable[[QueuedMessage], Awaitable[None]]:
            async def answer(entry: QueuedMessage) -> None:
                await asyncio.sleep(0)  # let other conversations interleave
                await answers.add(worker, entry)

            return answer

        async with (
            running_worker(client, redis_namespace, "worker-a", answering("worker-a")),
            running_worker(client, redis_namespace, "worker-b", answering("worker-b")),
        ):
            await answers.wait_for(lambda: answers.total() >= 60)
        # Leaving drains the workers: every answered entry is acknowledged by then.
        assert await queue.backlog() == 0
        assert answers.by_conversation == sent
        assert answers.total() == 60


async def test_a_worker_that_loses_its_lease_abandons_the_reply_for_the_next_owner(
    redis_url: str, redis_namespace: str
) -> None:
    answers = Answers()
    started, abandoned = asyncio.Event(), asyncio.Event()
    adopted: list[tuple[str, ...]] = []

    async def stuck(entry: QueuedMessage) -> None:
        progress = current_reply.get()
        assert progress is not None
        await progress.record(["m-1"])  # the partial reply's platform message
        started.set()
        try:
            await asyncio.Event().wait()  # never finishes: its lease is taken meanwhile
        except asyncio.CancelledError:
            abandoned.set()
            raise

    async def finishing(entry: QueuedMessage) -> None:
        progress = current_reply.get()
        assert progress is not None
        adopted.append(progress.adopted_ids)
        await answers.add("worker-b", entry)

    async with Redis.from_url(redis_url, decode_responses=True) as client:
        keys = StoreKeys(redis_namespace)
        queue = MessageQueue(client, keys, partitions=PARTITIONS)
        await queue.ensure_groups()
        queued = message("31", "9")
        partition = queue.partition(queued)
        await queue.append(queued)
        async with running_worker(client, redis_namespace, "worker-a", stuck) as first:
            await asyncio.wait_for(started.wait(), WAIT)
            await client.set(keys.queue_lease(partition), "intruder", px=60_000)
            await asyncio.wait_for(abandoned.wait(), WAIT)
            assert partition not in first.owned
            pending = await client.xpending(queue.key(partition), GROUP)
            assert pending["pending"] == 1  # abandoned, not acknowledged
            await client.delete(keys.queue_lease(partition))
            await client.zrem(keys.queue_workers(), "worker-a")
        async with running_worker(client, redis_namespace, "worker-b", finishing):
            await answers.wait_for(lambda: answers.total() == 1)
        assert await queue.backlog() == 0
        assert adopted == [("m-1",)]  # resumed: the partial message is edited, not re-posted
        ledger = ReplyLedger(client, keys, ttl_seconds=600)
        assert await ledger.owner(queued.conversation, "9") == "worker-b"


async def test_a_deferred_reply_waits_in_the_stream_and_is_answered_later(
    redis_url: str, redis_namespace: str
) -> None:
    answers = Answers()
    attempts: list[str] = []

    async def busy_twice(entry: QueuedMessage) -> None:
        attempts.append(entry.message.id)
        if len(attempts) <= 2:
            raise ReplyDeferred("every replica is busy")
        await answers.add("w", entry)

    async with Redis.from_url(redis_url, decode_responses=True) as client:
        queue = MessageQueue(client, StoreKeys(redis_namespace), partitions=PARTITIONS)
        await queue.ensure_groups()
        await queue.append(message("8", "1"))
        await queue.append(message("8", "2"))
        async with running_worker(client, redis_namespace, "w", busy_twice):
            await answers.wait_for(lambda: answers.total() == 2)
        assert await queue.backlog() == 0
        # The first message is tried until it gets through; the second waits behind it.
        assert attempts == ["1", "1", "1", "2"]
        assert list(answers.by_conversation.values()) == [["1", "2"]]


async def test_a_message_the_ledger_says_was_answered_is_acknowledged_without_a_reply(
    redis_url: str, redis_namespace: str
) -> None:
    answers = Answers()

    async def answer(entry: QueuedMessage) -> None:
        await answers.add("w", entry)

    async with Redis.from_url(redis_url, decode_responses=True) as client:
        keys = StoreKeys(redis_namespace)
        queue = MessageQueue(client, keys, partitions=PARTITIONS)
        await queue.ensure_groups()
        twice = message("12", "5")
        await queue.append(twice)
        await queue.append(twice)  # an ingress retried a hand-off whose answer it never got
        await queue.append(message("12", "6"))
        async with running_worker(client, redis_namespace, "w", answer):
            await answers.wait_for(lambda: answers.total() >= 2)
        assert await queue.backlog() == 0
        assert list(answers.by_conversation.values()) == [["5", "6"]]
