"""Feedback votes: the control payload, and a redelivered press recorded once."""

from __future__ import annotations

import asyncio

import pytest

from adapters.feedback import FeedbackVote, decode_vote, encode_vote, is_rated, record_vote, thanks
from core.errors import StoreError
from core.messages import ConversationRef, FinishReason, IncomingMessage, Reply, ReplyStream
from core.notices import notice
from core.store.memory import MemoryStore

CHAT = ConversationRef("acme", "space", "room")


class StoreHandler:
    """The ChatHandler claim and feedback calls over a real store, as DialogManager makes them."""

    def __init__(self, store: MemoryStore, *, claims_fail: bool = False) -> None:
        self.store = store
        self.claims_fail = claims_fail
        self.holds: list[int | None] = []
        self._held = asyncio.Condition()

    async def wait_for_holds(self, count: int) -> None:
        async with asyncio.timeout(5), self._held:
            await self._held.wait_for(lambda: len(self.holds) >= count)

    def handle(self, message: IncomingMessage) -> ReplyStream:
        return ReplyStream.of(Reply("ok", "en", FinishReason.STOP))

    async def claim_event(
        self, platform: str, event_id: str, *, hold_seconds: int | None = None
    ) -> bool:
        if self.claims_fail:
            raise StoreError("the store is down")
        return await self.store.claim(f"{platform}:{event_id}", hold_seconds or 86400)

    async def is_claimed(self, platform: str, event_id: str) -> bool:
        return await self.store.is_claimed(f"{platform}:{event_id}")

    async def hold_event(
        self, platform: str, event_id: str, *, hold_seconds: int | None = None
    ) -> None:
        await self.store.hold_claim(f"{platform}:{event_id}", hold_seconds or 86400)
        async with self._held:
            self.holds.append(hold_seconds)
            self._held.notify_all()

    async def record_feedback(
        self, conversation: ConversationRef, reply_id: str, sender_id: str, value: int
    ) -> None:
        await self.store.save_feedback(conversation, reply_id, sender_id, value)


def vote(event_id: str, value: int) -> FeedbackVote:
    return FeedbackVote(event_id, CHAT, "r1", "alice", value, locale_hint="pt-BR")


def test_payload_round_trips_and_foreign_payloads_are_no_votes() -> None:
    assert decode_vote(encode_vote("r1", 1)) == ("r1", 1)
    assert decode_vote(encode_vote("a:b", -1)) == ("a:b", -1)
    for payload in ("", "fb:maybe:r1", "fb:up:", "other:up:r1"):
        assert decode_vote(payload) is None


def test_only_model_replies_with_an_id_are_rated() -> None:
    assert is_rated(Reply("text", "en", FinishReason.STOP, (), "r1"))
    assert not is_rated(Reply("text", "en", FinishReason.STOP))
    assert not is_rated(Reply("help", "en", FinishReason.COMMAND, (), "r2"))
    assert not is_rated(None)


def test_thanks_come_in_the_voters_language() -> None:
    assert thanks(vote("1", 1)) == notice("feedback_thanks", "pt")


async def test_a_press_delivered_twice_is_recorded_once() -> None:
    store = MemoryStore()
    handler = StoreHandler(store)
    assert await record_vote(handler, "acme", vote("press-1", -1))
    assert await record_vote(handler, "acme", vote("press-2", 1))  # the user changed their mind
    # The first press arrives again (a platform retry): it must not undo the newer vote.
    assert not await record_vote(handler, "acme", vote("press-1", -1))
    assert await store.feedback(CHAT, "r1") == {"alice": 1}


async def test_a_vote_is_recorded_when_its_claim_cannot_be_made() -> None:
    store = MemoryStore()
    assert await record_vote(StoreHandler(store, claims_fail=True), "acme", vote("p", 1))
    assert await store.feedback(CHAT, "r1") == {"alice": 1}


@pytest.mark.parametrize("value", [1, -1])
def test_encoded_votes_fit_telegram_callback_data(value: int) -> None:
    assert len(encode_vote("x" * 55, value).encode()) <= 64
