"""The reply ledger: one record per queued message, the idempotency key of its reply.

`{ns}:reply:{conversation}:{message_id}` holds who is answering the message, whether it was
answered, and the platform ids of the messages its reply posted so far. A message whose
record says "answered" is acknowledged without a reply (a redelivery after a crash); a
reply cut short by a crash is resumed by editing the recorded messages instead of posting
new ones. Writes by a worker that is no longer the record's owner are ignored, so a worker
that lost its partition cannot overwrite the new owner's record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from core.messages import ConversationRef
from core.queue.streams import translated
from core.store.keys import StoreKeys

ANSWERING, ANSWERED = "answering", "answered"

# Returns {state, ids, previous owner}; an answered record is left as it is.
_TAKE = """
local state = redis.call('HGET', KEYS[1], 'state')
local ids = redis.call('HGET', KEYS[1], 'ids') or '[]'
local previous = redis.call('HGET', KEYS[1], 'owner') or ''
if state ~= 'answered' then
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'state', 'answering')
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  state = 'answering'
end
return {state, ids, previous}
"""
# Records ids (and, with ARGV[3] set, the answered state) only for the record's owner.
_WRITE = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'ids', ARGV[2])
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'state', ARGV[3])
end
return 1
"""


@dataclass(frozen=True)
class LedgerRecord:
    """A message's record when a worker took it."""

    answered: bool
    message_ids: tuple[str, ...]  # platform messages a previous attempt posted
    previous_owner: str  # the worker that had it before ("" when none)


class ReplyLedger:
    """Reply records of one namespace, kept for `ttl_seconds` (the dedup period)."""

    def __init__(self, client: Redis, keys: StoreKeys, *, ttl_seconds: int) -> None:
        self._client = client
        self._keys = keys
        self._ttl = ttl_seconds
        self._take: Any = client.register_script(_TAKE)
        self._write: Any = client.register_script(_WRITE)

    async def take(
        self, conversation: ConversationRef, message_id: str, owner: str
    ) -> LedgerRecord:
        """Become the owner of the message's reply (unless it was answered already)."""
        key = self._keys.reply(conversation, message_id)
        async with translated("take a reply record"):
            state, ids, previous = await self._take(keys=[key], args=[owner, self._ttl])
        return LedgerRecord(state == ANSWERED, tuple(json.loads(ids)), previous)

    async def record(
        self, conversation: ConversationRef, message_id: str, owner: str, ids: list[str]
    ) -> bool:
        """Remember the reply's platform message ids; False when `owner` lost the record."""
        return await self._put(conversation, message_id, owner, ids, "")

    async def finish(
        self, conversation: ConversationRef, message_id: str, owner: str, ids: list[str]
    ) -> bool:
        """Mark the message answered; False when `owner` lost the record."""
        return await self._put(conversation, message_id, owner, ids, ANSWERED)

    async def owner(self, conversation: ConversationRef, message_id: str) -> str | None:
        """The worker that holds the message's record now (for tests and operators)."""
        async with translated("read a reply record"):
            found: Any = await self._client.hget(
                self._keys.reply(conversation, message_id), "owner"
            )
        return None if found is None else str(found)

    async def message_ids(self, conversation: ConversationRef, message_id: str) -> list[str]:
        """The platform messages recorded for the message's reply so far."""
        async with translated("read a reply record"):
            found: Any = await self._client.hget(self._keys.reply(conversation, message_id), "ids")
        return [] if found is None else [str(item) for item in json.loads(found)]

    async def _put(
        self, conversation: ConversationRef, message_id: str, owner: str, ids: list[str], state: str
    ) -> bool:
        key = self._keys.reply(conversation, message_id)
        async with translated("update a reply record"):
            written = await self._write(keys=[key], args=[owner, json.dumps(ids), state])
        return bool(written)
