"""The line of messages waiting for a model replica, which gives each its place for the user.

When every replica is busy a worker puts a message off (`ReplyDeferred`); the first time, the
message joins `{ns}:queue-waiting`, a sorted set ordered by when the ingress queued it, and
its rank there is the position the user is told ("you are number 3 in line"). It leaves
the line once it is settled (answered, found answered, or given up). The set expires when
no message joined it for `ttl_seconds`, so entries of messages nobody settles (their stream
deleted) do not linger.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from core.queue.codec import QueuedMessage
from core.queue.streams import translated
from core.store.keys import StoreKeys


def _member(entry: QueuedMessage) -> str:
    # Conversation and message id: stream entry ids repeat across partitions.
    message = entry.message
    return f"{message.conversation.key}|{message.id}"


class WaitingLine:
    """The waiting line of one namespace, on a `decode_responses=True` client."""

    def __init__(self, client: Redis, keys: StoreKeys, *, ttl_seconds: int) -> None:
        self._client = client
        self._key = keys.queue_waiting()
        self._ttl = ttl_seconds

    async def join(self, entry: QueuedMessage) -> int:
        """Put the message in line (once) and return its position, 1 for the first."""
        member = _member(entry)
        async with (
            translated("join the waiting line"),
            self._client.pipeline(transaction=True) as pipe,
        ):
            pipe.zadd(self._key, {member: entry.queued_at}, nx=True)
            pipe.zrank(self._key, member)
            pipe.expire(self._key, self._ttl)
            answers: Any = await pipe.execute()
        return int(answers[1]) + 1

    async def leave(self, entry: QueuedMessage) -> None:
        async with translated("leave the waiting line"):
            await self._client.zrem(self._key, _member(entry))
