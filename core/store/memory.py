"""MemoryStore: the in-process store used when no Redis URL is configured."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

from core.messages import ConversationRef, Turn
from core.store.base import Store
from core.store.keys import DEFAULT_FEEDBACK_TTL_SECONDS, DEFAULT_NAMESPACE, StoreKeys
from core.store.validation import check_feedback_value, check_history_limits, check_ttl

Clock = Callable[[], float]
V = TypeVar("V")

# Expired records are also dropped when read; the sweep only bounds memory for records
# nobody reads again (finished conversations, old dedup claims).
_SWEEP_INTERVAL_SECONDS = 60.0


class _ExpiringRecords(Generic[V]):
    """A dict whose entries vanish at their expiry time on the injected clock."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[V, float | None]] = {}

    def get(self, key: str, now: float) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        value, expires_at = item
        if expires_at is not None and expires_at <= now:
            del self._items[key]
            return None
        return value

    def expires_at(self, key: str) -> float | None:
        item = self._items.get(key)
        return None if item is None else item[1]

    def put(self, key: str, value: V, expires_at: float | None) -> None:
        self._items[key] = (value, expires_at)

    def pop(self, key: str) -> None:
        self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)

    def sweep(self, now: float) -> None:
        expired = [
            key
            for key, (_, expires_at) in self._items.items()
            if expires_at is not None and expires_at <= now
        ]
        for key in expired:
            del self._items[key]


class MemoryStore(Store):
    """Keeps everything in this process with the same semantics as `RedisStore`.

    `clock` returns seconds (monotonic by default); tests inject one they can advance.
    Every operation completes without awaiting, so each is atomic on the event loop.
    """

    def __init__(
        self,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        clock: Clock = time.monotonic,
        feedback_ttl_seconds: int = DEFAULT_FEEDBACK_TTL_SECONDS,
    ) -> None:
        check_ttl(feedback_ttl_seconds)
        self._keys = StoreKeys(namespace)
        self._clock = clock
        self._feedback_ttl = feedback_ttl_seconds
        self._histories: _ExpiringRecords[list[Turn]] = _ExpiringRecords()
        self._languages: dict[str, str] = {}
        self._claims: _ExpiringRecords[bool] = _ExpiringRecords()
        self._feedback: _ExpiringRecords[dict[str, int]] = _ExpiringRecords()
        self._sender_feedback: _ExpiringRecords[set[str]] = _ExpiringRecords()
        self._next_sweep = clock() + _SWEEP_INTERVAL_SECONDS

    def _now(self) -> float:
        now = self._clock()
        if now >= self._next_sweep:
            for records in (self._histories, self._claims, self._feedback, self._sender_feedback):
                records.sweep(now)
            self._next_sweep = now + _SWEEP_INTERVAL_SECONDS
        return now

    def record_count(self) -> int:
        """How many records are held, expired ones not yet swept included (for metrics)."""
        records = (self._histories, self._claims, self._feedback, self._sender_feedback)
        return len(self._languages) + sum(len(group) for group in records)

    async def history(self, conversation: ConversationRef) -> list[Turn]:
        turns = self._histories.get(self._keys.history(conversation), self._now())
        return list(turns or [])

    async def append_turn(
        self, conversation: ConversationRef, turn: Turn, *, max_turns: int, ttl_seconds: int
    ) -> None:
        check_history_limits(max_turns, ttl_seconds)
        now = self._now()
        key = self._keys.history(conversation)
        turns = [*(self._histories.get(key, now) or []), turn][-max_turns:]
        self._histories.put(key, turns, now + ttl_seconds)

    async def clear_history(self, conversation: ConversationRef) -> None:
        self._histories.pop(self._keys.history(conversation))

    async def language(self, conversation: ConversationRef) -> str | None:
        return self._languages.get(self._keys.language(conversation))

    async def set_language(self, conversation: ConversationRef, language: str | None) -> None:
        key = self._keys.language(conversation)
        if language is None:
            self._languages.pop(key, None)
        else:
            self._languages[key] = language

    async def forget_sender(self, conversation: ConversationRef, sender_id: str) -> None:
        now = self._now()
        history_key = self._keys.history(conversation)
        turns = self._histories.get(history_key, now)
        if turns is not None:
            kept = [turn for turn in turns if turn.sender_id != sender_id]
            if kept:
                # The rewritten history keeps the expiry it had.
                self._histories.put(history_key, kept, self._histories.expires_at(history_key))
            else:
                self._histories.pop(history_key)
        index_key = self._keys.sender_feedback(conversation, sender_id)
        for reply_id in self._sender_feedback.get(index_key, now) or set():
            feedback_key = self._keys.feedback(conversation, reply_id)
            ratings = self._feedback.get(feedback_key, now)
            if ratings is None:
                continue
            ratings.pop(sender_id, None)
            if not ratings:
                self._feedback.pop(feedback_key)
        self._sender_feedback.pop(index_key)

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        check_ttl(ttl_seconds)
        now = self._now()
        claim_key = self._keys.claim(key)
        if self._claims.get(claim_key, now):
            return False
        self._claims.put(claim_key, True, now + ttl_seconds)
        return True

    async def is_claimed(self, key: str) -> bool:
        return bool(self._claims.get(self._keys.claim(key), self._now()))

    async def hold_claim(self, key: str, ttl_seconds: int) -> None:
        check_ttl(ttl_seconds)
        now = self._now()
        self._claims.put(self._keys.claim(key), True, now + ttl_seconds)

    async def save_feedback(
        self, conversation: ConversationRef, reply_id: str, sender_id: str, value: int
    ) -> None:
        check_feedback_value(value)
        now = self._now()
        feedback_key = self._keys.feedback(conversation, reply_id)
        ratings = self._feedback.get(feedback_key, now)
        if ratings is None:
            # The reply's feedback expires a fixed time after its first rating.
            ratings = {}
            self._feedback.put(feedback_key, ratings, now + self._feedback_ttl)
        ratings[sender_id] = value
        index_key = self._keys.sender_feedback(conversation, sender_id)
        rated = self._sender_feedback.get(index_key, now) or set()
        rated.add(reply_id)
        self._sender_feedback.put(index_key, rated, now + self._feedback_ttl)

    async def feedback(self, conversation: ConversationRef, reply_id: str) -> dict[str, int]:
        ratings = self._feedback.get(self._keys.feedback(conversation, reply_id), self._now())
        return dict(ratings or {})
