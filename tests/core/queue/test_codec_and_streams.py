"""The stream side of the queue against a real Redis: codec, partitions, claims, trimming."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from core.errors import StoreError
from core.messages import ConversationRef, IncomingMessage, PlaceKind, Sender
from core.queue.codec import decode, encode
from core.queue.streams import GROUP, MessageQueue, partition_of
from core.store.keys import StoreKeys


def message(channel: str, message_id: str, text: str = "hello") -> IncomingMessage:
    return IncomingMessage(
        id=message_id,
        conversation=ConversationRef("telegram", None, channel, kind=PlaceKind.PRIVATE),
        sender=Sender("42", "Zoé", locale_hint="fr"),
        text=text,
        sent_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        raw={"update_id": 7, "message": {"text": text}},
    )


@pytest.fixture
async def queue(redis_url: str, redis_namespace: str) -> AsyncIterator[MessageQueue]:
    async with Redis.from_url(redis_url, decode_responses=True) as client:
        queue = MessageQueue(client, StoreKeys(redis_namespace), partitions=4)
        await queue.ensure_groups()
        yield queue


async def stream_ids(queue: MessageQueue, partition: int) -> list[str]:
    entries: Any = await queue.client.xrange(queue.key(partition))
    return [entry_id for entry_id, _ in entries]


def test_a_message_survives_the_codec_whole() -> None:
    original = message("5150", "17", "Salut : ça va ?")
    fields = encode(original, 1234.5)
    back = decode("1-0", fields)
    assert back.message == original
    assert back.message.raw == original.raw
    assert back.message.conversation.kind is PlaceKind.PRIVATE
    assert (back.entry_id, back.queued_at) == ("1-0", 1234.5)


def test_entries_of_a_newer_version_or_broken_are_refused() -> None:
    fields = encode(message("1", "2"), 0.0)
    with pytest.raises(StoreError, match="newer"):
        decode("1-0", {**fields, "v": "99"})
    with pytest.raises(StoreError, match="not a queued message"):
        decode("1-0", {**fields, "message": "{"})


def test_partitions_are_stable_and_spread() -> None:
    keys = [message(str(n), "1").conversation.key for n in range(400)]
    partitions = [partition_of(key, 8) for key in keys]
    assert partitions == [partition_of(key, 8) for key in keys]
    assert set(partitions) == set(range(8))
    assert max(partitions.count(p) for p in range(8)) < 2 * 400 / 8


async def test_read_ack_and_trim_keep_every_unacknowledged_entry(queue: MessageQueue) -> None:
    first = message("5150", "1")
    partition = queue.partition(first)
    ids = [await queue.append(message("5150", str(n))) for n in range(1, 6)]
    found = await queue.read([partition], "w1", count=3, block_ms=10)
    assert [entry.entry_id for _, entry in found if not isinstance(entry, str)] == ids[:3]
    await queue.ack(partition, ids[0])
    await queue.ack(partition, ids[2])  # ids[1] is still pending, ids[3:] never read
    assert await queue.backlog() == 3  # one pending, two never read
    await queue.trim(partition)
    assert await stream_ids(queue, partition) == ids[1:]
    await queue.ack(partition, ids[1])
    await queue.trim(partition)
    assert await stream_ids(queue, partition) == ids[3:]
    assert await queue.backlog() == 2


async def test_a_new_owner_claims_every_pending_entry_of_every_consumer(
    queue: MessageQueue,
) -> None:
    first = message("77", "1")
    partition = queue.partition(first)
    ids = [await queue.append(message("77", str(n))) for n in range(1, 5)]
    await queue.read([partition], "old-a", count=2, block_ms=10)
    await queue.read([partition], "old-b", count=1, block_ms=10)
    await queue.client.xdel(queue.key(partition), ids[1])  # deleted while pending
    taken = await queue.claim_pending(partition, "new")
    assert [entry.entry_id for entry in taken if not isinstance(entry, str)] == [ids[0], ids[2]]
    pending = await queue.client.xpending_range(queue.key(partition), GROUP, "-", "+", 10)
    assert {(p["message_id"], p["consumer"]) for p in pending} == {(ids[0], "new"), (ids[2], "new")}
    fresh = await queue.read([partition], "new", count=10, block_ms=10)
    assert [entry.entry_id for _, entry in fresh if not isinstance(entry, str)] == [ids[3]]


async def test_an_unreadable_entry_comes_back_as_its_id(queue: MessageQueue) -> None:
    await queue.client.xadd(queue.key(0), {"v": "1", "message": "not json"})
    found = await queue.read([0], "w", count=5, block_ms=10)
    assert len(found) == 1 and isinstance(found[0][1], str)
