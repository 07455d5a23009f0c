"""MemoryStore behaviour that needs its clock: expiry fixed by the first rating, default namespace."""

from __future__ import annotations

import pytest

from core.errors import ConfigurationError
from core.messages import ConversationRef, Turn
from core.store.memory import MemoryStore
from tests.core.store.conftest import ManualClock

CHAT = ConversationRef("discord", "G1", "C1")


async def test_feedback_expiry_is_fixed_by_the_first_rating() -> None:
    clock = ManualClock()
    store = MemoryStore(clock=clock, feedback_ttl_seconds=100)
    await store.save_feedback(CHAT, "r1", "alice", 1)
    clock.advance(75)
    await store.save_feedback(CHAT, "r1", "bob", -1)
    assert await store.feedback(CHAT, "r1") == {"alice": 1, "bob": -1}
    clock.advance(30)
    assert await store.feedback(CHAT, "r1") == {}
    # A rating after expiry starts a fresh record with a fresh expiry.
    await store.save_feedback(CHAT, "r1", "bob", 1)
    assert await store.feedback(CHAT, "r1") == {"bob": 1}


async def test_forget_still_finds_ratings_renewed_by_other_senders() -> None:
    clock = ManualClock()
    store = MemoryStore(clock=clock, feedback_ttl_seconds=100)
    await store.save_feedback(CHAT, "r1", "alice", 1)
    clock.advance(90)
    await store.save_feedback(CHAT, "r1", "bob", 1)
    await store.forget_sender(CHAT, "alice")
    assert await store.feedback(CHAT, "r1") == {"bob": 1}


async def test_records_nobody_reads_again_are_swept() -> None:
    clock = ManualClock()
    store = MemoryStore(clock=clock)
    for number in range(50):
        chat = ConversationRef("console", None, f"c{number}")
        await store.append_turn(chat, Turn("u", "r", "me"), max_turns=5, ttl_seconds=10)
        await store.claim(f"event-{number}", 10)
    clock.advance(3600)
    assert await store.claim("fresh", 10) is True
    # Only the claim just made is still held in memory.
    assert await store.history(ConversationRef("console", None, "c0")) == []
    assert store.record_count() == 1


def test_namespace_is_checked() -> None:
    with pytest.raises(ConfigurationError):
        MemoryStore(namespace="a:b")


def test_feedback_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        MemoryStore(feedback_ttl_seconds=0)
