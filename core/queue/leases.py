"""Which worker owns which partition: heartbeats, rendezvous hashing and expiring leases.

Live workers register in a sorted set with a heartbeat. Every worker computes the same
assignment from that set (rendezvous hashing: each partition goes to the live worker with
the highest hash of worker and partition), so a worker joining or leaving moves only its
share of partitions. The assignment is advice; the lease key is the truth: a partition is
worked by the holder of `{ns}:queue-lease:{p}` only (SET NX PX, renewed while held), so a
conversation is never processed by two workers even while views of the live set differ.
A worker that dies loses its leases when they expire.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from typing import Any

from redis.asyncio import Redis

from core.queue.streams import translated
from core.store.keys import StoreKeys

# Renew (PEXPIRE) or release (DEL) only a lease this worker holds.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# Renews every lease in KEYS held by ARGV[1]; returns one 1 or 0 per key.
_RENEW_ALL = """
local renewed = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    renewed[i] = redis.call('PEXPIRE', key, ARGV[2])
  else
    renewed[i] = 0
  end
end
return renewed
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _weight(worker: str, partition: int) -> int:
    digest = hashlib.blake2b(f"{worker}|{partition}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def assignment(workers: Iterable[str], partitions: int) -> dict[int, str]:
    """Partition -> the live worker that should own it (the same in every process)."""
    live = sorted(set(workers))
    if not live:
        return {}
    return {p: max(live, key=lambda worker: _weight(worker, p)) for p in range(partitions)}


class PartitionLeases:
    """One worker's registration and leases; `lease_seconds` is how long a dead one holds on."""

    def __init__(
        self,
        client: Redis,
        keys: StoreKeys,
        *,
        worker_id: str,
        partitions: int,
        lease_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._keys = keys
        self.worker_id = worker_id
        self.partitions = partitions
        self._lease_ms = max(1, int(lease_seconds * 1000))
        self._clock = clock
        self._renew: Any = client.register_script(_RENEW)
        self._release: Any = client.register_script(_RELEASE)
        self._renew_all: Any = client.register_script(_RENEW_ALL)

    async def heartbeat(self) -> set[int]:
        """Say this worker is alive; returns the partitions the live workers assign to it."""
        now_ms = int(self._clock() * 1000)
        key = self._keys.queue_workers()
        async with translated("record a worker heartbeat"), self._client.pipeline() as pipe:
            pipe.zadd(key, {self.worker_id: now_ms})
            pipe.zremrangebyscore(key, "-inf", now_ms - self._lease_ms)
            pipe.zrange(key, 0, -1)
            *_, live = await pipe.execute()
        owners = assignment(live, self.partitions)
        return {p for p, owner in owners.items() if owner == self.worker_id}

    async def acquire(self, partition: int) -> bool:
        """Take the partition's lease if nobody holds it (True also when this worker does)."""
        key = self._keys.queue_lease(partition)
        async with translated("take a partition lease"):
            if await self._client.set(key, self.worker_id, nx=True, px=self._lease_ms):
                return True
            return bool(await self._renew(keys=[key], args=[self.worker_id, self._lease_ms]))

    async def renew_all(self, partitions: list[int]) -> dict[int, bool]:
        """Extend the leases of `partitions` in one round trip: partition -> still held."""
        if not partitions:
            return {}
        keys = [self._keys.queue_lease(p) for p in partitions]
        async with translated("renew partition leases"):
            renewed = await self._renew_all(keys=keys, args=[self.worker_id, self._lease_ms])
        return {p: bool(flag) for p, flag in zip(partitions, renewed, strict=True)}

    async def release(self, partition: int) -> None:
        """Give the partition up (only if this worker still holds it)."""
        key = self._keys.queue_lease(partition)
        async with translated("release a partition lease"):
            await self._release(keys=[key], args=[self.worker_id])

    async def leave(self) -> None:
        """Leave the live set: the others take this worker's partitions at once."""
        async with translated("leave the worker set"):
            await self._client.zrem(self._keys.queue_workers(), self.worker_id)
