"""Partitioned Redis Streams: ingress appends messages, the consumer group `workers` reads them.

A conversation always lands in the same partition (`partition_of`: a stable hash of its key,
never Python's salted `hash`), so one partition owner sees a conversation's messages in
arrival order. Entries are trimmed only below the oldest entry still pending or not yet
delivered: an unacknowledged message is never trimmed away.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from core.cancellation import cancellation_kept
from core.errors import StoreError
from core.messages import IncomingMessage
from core.queue.codec import QueuedMessage, decode, encode
from core.store.keys import StoreKeys

logger = logging.getLogger(__name__)

GROUP = "workers"
_CLAIM_BATCH = 100


def partition_of(conversation_key: str, partitions: int) -> int:
    """The partition of a conversation: the same in every process and every run."""
    return zlib.crc32(conversation_key.encode()) % partitions


def _after(entry_id: str) -> str:
    """The smallest stream id greater than `entry_id`."""
    millis, _, sequence = entry_id.partition("-")
    return f"{millis}-{int(sequence or 0) + 1}"


@asynccontextmanager
async def translated(action: str) -> AsyncIterator[None]:
    """Redis failures as StoreError (redis-py messages name host and port, never a password).

    A cancellation redis-py swallowed during the call is raised again (`cancellation_kept`).
    """
    with cancellation_kept():
        try:
            yield
        except (RedisError, OSError) as exc:
            raise StoreError(f"the message queue could not {action}: {exc}") from exc


class MessageQueue:
    """The partition streams of one namespace, on a `decode_responses=True` client."""

    def __init__(
        self,
        client: Redis,
        keys: StoreKeys,
        *,
        partitions: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if partitions < 1:
            raise ValueError("a queue needs at least one partition")
        self.client = client
        self.keys = keys
        self.partitions = partitions
        self._clock = clock

    def key(self, partition: int) -> str:
        return self.keys.queue(partition)

    def partition(self, message: IncomingMessage) -> int:
        return partition_of(message.conversation.key, self.partitions)

    async def ensure_groups(self) -> None:
        """Create every partition stream and its consumer group (reading from the start)."""
        async with translated("create its consumer groups"):
            for partition in range(self.partitions):
                try:
                    await self.client.xgroup_create(self.key(partition), GROUP, "0", mkstream=True)
                except ResponseError as exc:
                    if "BUSYGROUP" not in str(exc):
                        raise

    async def append(self, message: IncomingMessage) -> str:
        """Hand a message on to the workers; returns its entry id (StoreError: not queued)."""
        fields = encode(message, self._clock())
        async with translated("append a message"):
            entry_id: Any = await self.client.xadd(self.key(self.partition(message)), fields)  # type: ignore[arg-type]
        return str(entry_id)

    async def read(
        self, partitions: Sequence[int], consumer: str, *, count: int, block_ms: int
    ) -> list[tuple[int, QueuedMessage | str]]:
        """New entries of `partitions` for `consumer`: (partition, message, or an unreadable id)."""
        if not partitions or count < 1:
            return []
        streams: Any = {self.key(p): ">" for p in partitions}
        by_key = {self.key(p): p for p in partitions}
        async with translated("read messages"):
            answer: Any = await self.client.xreadgroup(
                GROUP,
                consumer,
                streams,
                count=count,
                block=block_ms,
            )
        found: list[tuple[int, QueuedMessage | str]] = []
        for key, entries in answer or []:
            found += [(by_key[key], self._decoded(e_id, fields)) for e_id, fields in entries]
        return found

    async def claim_pending(self, partition: int, consumer: str) -> list[QueuedMessage | str]:
        """Take over every pending entry of `partition`, from any consumer, oldest first.

        Called by a partition's new owner: its lease proves the previous owner is gone, so
        no idle time is required. Entries deleted meanwhile are acknowledged.
        """
        key, start = self.key(partition), "0-0"
        taken: list[QueuedMessage | str] = []
        async with translated("claim pending messages"):
            while True:
                answer: Any = await self.client.xautoclaim(
                    key, GROUP, consumer, 0, start_id=start, count=_CLAIM_BATCH
                )
                start, entries = answer[0], answer[1]
                deleted = answer[2] if len(answer) > 2 else []
                taken += [self._decoded(e_id, fields) for e_id, fields in entries if fields]
                if deleted:
                    await self.client.xack(key, GROUP, *deleted)
                if start == "0-0":
                    return taken

    async def ack(self, partition: int, entry_id: str) -> None:
        async with translated("acknowledge a message"):
            await self.client.xack(self.key(partition), GROUP, entry_id)

    async def trim(self, partition: int) -> None:
        """Drop acknowledged entries: everything older than the oldest pending or unread one."""
        key = self.key(partition)
        async with translated("trim a stream"):
            # The last delivered id is read BEFORE the pending entries: whatever is delivered
            # in between lies above it and is kept, so a pending entry is never trimmed.
            group = await self._group(key)
            last = group.get("last-delivered-id") if group else None
            if not last or last == "0-0":
                return
            oldest = _after(last)
            summary: Any = await self.client.xpending(key, GROUP)
            if summary.get("pending"):
                oldest = summary["min"]
            await self.client.xtrim(key, minid=oldest, approximate=False)

    async def backlog(self) -> int:
        """Entries not yet acknowledged, all partitions: pending plus not yet delivered."""
        total = 0
        async with translated("measure the backlog"):
            for partition in range(self.partitions):
                key = self.key(partition)
                group = await self._group(key)
                if group is None:
                    continue
                lag = group.get("lag")
                if lag is None:  # Redis cannot tell after deletions: count what follows
                    unread: Any = await self.client.xrange(
                        key, "(" + group["last-delivered-id"], "+"
                    )
                    lag = len(unread)
                total += int(group.get("pending", 0)) + int(lag)
        return total

    async def _group(self, key: str) -> dict[str, Any] | None:
        try:
            groups: Any = await self.client.xinfo_groups(key)
        except ResponseError:
            return None  # no such stream yet
        for group in groups:
            if group.get("name") == GROUP:
                found: dict[str, Any] = group
                return found
        return None

    @staticmethod
    def _decoded(entry_id: str, fields: Any) -> QueuedMessage | str:
        try:
            return decode(entry_id, fields)
        except StoreError as exc:
            logger.error("%s; it is acknowledged without an answer", exc)
            return entry_id
