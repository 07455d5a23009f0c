"""The Store contract, checked on MemoryStore and on RedisStore against the real Redis."""

from __future__ import annotations

import asyncio

import pytest

from core.messages import ConversationRef, Turn
from tests.core.store.conftest import FEEDBACK_TTL_SECONDS, StoreHarness

CHAT = ConversationRef("slack", "T1", "C1", "1700000000.000100")
OTHER_CHAT = ConversationRef("slack", "T1", "C2")


def turn(number: int, sender: str = "U1") -> Turn:
    return Turn(
        user_text=f"question {number}",
        reply_text=f"answer {number}",
        sender_id=sender,
        language="en",
        reply_id=f"r{number}",
        at=1_700_000_000.0 + number,
    )


async def test_unknown_conversation_is_empty(harness: StoreHarness) -> None:
    store = harness.store
    assert await store.history(CHAT) == []
    assert await store.language(CHAT) is None
    assert await store.feedback(CHAT, "r1") == {}


async def test_history_keeps_order_and_every_field(harness: StoreHarness) -> None:
    multilingual = Turn(
        user_text='¿Qué es BLOOM? 布鲁姆是什么 <human>: "quoted"\n',
        reply_text="Un modèle multilingue — نموذج متعدد اللغات",
        sender_id="U:7",
        language="es",
        reply_id="reply:1",
        at=1_700_000_123.25,
    )
    await harness.store.append_turn(CHAT, turn(1), max_turns=10, ttl_seconds=60)
    await harness.store.append_turn(CHAT, multilingual, max_turns=10, ttl_seconds=60)
    assert await harness.store.history(CHAT) == [turn(1), multilingual]


async def test_history_is_capped_to_the_newest_turns(harness: StoreHarness) -> None:
    for number in range(1, 8):
        await harness.store.append_turn(CHAT, turn(number), max_turns=3, ttl_seconds=60)
    assert await harness.store.history(CHAT) == [turn(5), turn(6), turn(7)]


async def test_concurrent_appends_respect_the_cap(harness: StoreHarness) -> None:
    await asyncio.gather(
        *(
            harness.store.append_turn(CHAT, turn(number), max_turns=5, ttl_seconds=60)
            for number in range(40)
        )
    )
    history = await harness.store.history(CHAT)
    assert len(history) == 5
    assert len(set(history)) == 5


async def test_history_expires_after_its_ttl(harness: StoreHarness) -> None:
    await harness.store.append_turn(CHAT, turn(1), max_turns=5, ttl_seconds=90)

    async def present() -> bool:
        return bool(await harness.store.history(CHAT))

    await harness.assert_expires_after(harness.keys.history(CHAT), 90, present)


async def test_each_append_renews_the_ttl(harness: StoreHarness) -> None:
    await harness.store.append_turn(CHAT, turn(1), max_turns=5, ttl_seconds=30)
    await harness.store.append_turn(CHAT, turn(2), max_turns=5, ttl_seconds=600)

    async def present() -> bool:
        return bool(await harness.store.history(CHAT))

    await harness.assert_expires_after(harness.keys.history(CHAT), 600, present)


async def test_clear_history_forgets_only_that_conversation(harness: StoreHarness) -> None:
    await harness.store.append_turn(CHAT, turn(1), max_turns=5, ttl_seconds=60)
    await harness.store.append_turn(OTHER_CHAT, turn(2), max_turns=5, ttl_seconds=60)
    await harness.store.set_language(CHAT, "fr")

    await harness.store.clear_history(CHAT)

    assert await harness.store.history(CHAT) == []
    assert await harness.store.history(OTHER_CHAT) == [turn(2)]
    assert await harness.store.language(CHAT) == "fr"
    await harness.store.clear_history(CHAT)  # clearing twice is harmless


async def test_language_set_and_back_to_automatic(harness: StoreHarness) -> None:
    store = harness.store
    await store.set_language(CHAT, "sw")
    assert await store.language(CHAT) == "sw"
    assert await store.language(OTHER_CHAT) is None
    await store.set_language(CHAT, "zh")
    assert await store.language(CHAT) == "zh"
    await store.set_language(CHAT, None)
    assert await store.language(CHAT) is None
    await store.set_language(CHAT, None)
    assert await store.language(CHAT) is None


async def test_conversation_state_reads_the_language_and_the_turns_together(
    harness: StoreHarness,
) -> None:
    store = harness.store
    assert await store.conversation_state(CHAT) == (None, [])
    await store.set_language(CHAT, "yo")
    await store.append_turn(CHAT, turn(1), max_turns=10, ttl_seconds=60)
    await store.append_turn(CHAT, turn(2), max_turns=10, ttl_seconds=60)
    assert await store.conversation_state(CHAT) == ("yo", [turn(1), turn(2)])
    assert await store.conversation_state(OTHER_CHAT) == (None, [])


async def test_forget_sender_leaves_other_senders_turns(harness: StoreHarness) -> None:
    senders = ["alice", "bob", "alice", "carol", "alice", "bob"]
    for number, sender in enumerate(senders):
        await harness.store.append_turn(CHAT, turn(number, sender), max_turns=10, ttl_seconds=60)
    await harness.store.append_turn(OTHER_CHAT, turn(9, "alice"), max_turns=10, ttl_seconds=60)

    await harness.store.forget_sender(CHAT, "alice")

    assert await harness.store.history(CHAT) == [
        turn(1, "bob"),
        turn(3, "carol"),
        turn(5, "bob"),
    ]
    # /forget is scoped to one conversation.
    assert await harness.store.history(OTHER_CHAT) == [turn(9, "alice")]


async def test_forget_sender_keeps_the_history_expiry(harness: StoreHarness) -> None:
    await harness.store.append_turn(CHAT, turn(1, "alice"), max_turns=10, ttl_seconds=120)
    await harness.store.append_turn(CHAT, turn(2, "bob"), max_turns=10, ttl_seconds=120)

    await harness.store.forget_sender(CHAT, "alice")

    async def present() -> bool:
        return await harness.store.history(CHAT) == [turn(2, "bob")]

    await harness.assert_expires_after(harness.keys.history(CHAT), 120, present)


async def test_forget_the_only_sender_empties_history(harness: StoreHarness) -> None:
    for number in range(3):
        await harness.store.append_turn(CHAT, turn(number, "alice"), max_turns=10, ttl_seconds=60)
    await harness.store.forget_sender(CHAT, "alice")
    assert await harness.store.history(CHAT) == []
    await harness.store.forget_sender(CHAT, "nobody")  # nothing stored: nothing to do
    assert await harness.store.history(CHAT) == []


async def test_forget_during_concurrent_appends_loses_no_other_turn(
    harness: StoreHarness,
) -> None:
    for number in range(5):
        await harness.store.append_turn(CHAT, turn(number, "alice"), max_turns=100, ttl_seconds=60)

    async def bob_writes(number: int) -> None:
        await harness.store.append_turn(CHAT, turn(number, "bob"), max_turns=100, ttl_seconds=60)

    await asyncio.gather(
        *(bob_writes(number) for number in range(10, 20)),
        harness.store.forget_sender(CHAT, "alice"),
        *(bob_writes(number) for number in range(20, 30)),
    )

    history = await harness.store.history(CHAT)
    assert {t.sender_id for t in history} == {"bob"}
    assert sorted(t.reply_id for t in history) == sorted(f"r{n}" for n in range(10, 30))


async def test_claim_succeeds_once(harness: StoreHarness) -> None:
    store = harness.store
    assert await store.claim("telegram:update:42", 300) is True
    assert await store.claim("telegram:update:42", 300) is False
    assert await store.claim("telegram:update:43", 300) is True


async def test_concurrent_claims_have_one_winner(harness: StoreHarness) -> None:
    results = await asyncio.gather(
        *(harness.store.claim("slack:event:Ev1", 300) for _ in range(20))
    )
    assert results.count(True) == 1


async def test_claim_expires_after_its_ttl(harness: StoreHarness) -> None:
    assert await harness.store.claim("discord:message:7", 45)

    async def still_claimed() -> bool:
        return not await harness.store.claim("discord:message:7", 45)

    await harness.assert_expires_after(harness.keys.claim("discord:message:7"), 45, still_claimed)


async def test_holding_a_claim_extends_it_and_renews_an_expired_one(
    harness: StoreHarness,
) -> None:
    assert await harness.store.claim("slack:event:Ev9", 60)  # "in progress"
    await harness.store.hold_claim("slack:event:Ev9", 3600)  # "done"

    async def still_claimed() -> bool:
        return not await harness.store.claim("slack:event:Ev9", 60)

    await harness.assert_expires_after(harness.keys.claim("slack:event:Ev9"), 3600, still_claimed)
    # Held after it expired (a slow reply finishing late): the claim exists again.
    await harness.store.hold_claim("slack:event:Ev9", 3600)
    assert await still_claimed()


async def test_is_claimed_reads_a_claim_without_making_one(harness: StoreHarness) -> None:
    store = harness.store
    assert await store.is_claimed("slack:thread:t1") is False
    assert await store.is_claimed("slack:thread:t1") is False  # reading never claims
    await store.hold_claim("slack:thread:t1", 300)
    assert await store.is_claimed("slack:thread:t1") is True
    assert await store.claim("slack:thread:t1", 300) is False

    async def still_claimed() -> bool:
        return await store.is_claimed("slack:thread:t1")

    await harness.assert_expires_after(harness.keys.claim("slack:thread:t1"), 300, still_claimed)


async def test_feedback_is_per_sender_and_replaced(harness: StoreHarness) -> None:
    store = harness.store
    await store.save_feedback(CHAT, "r1", "alice", 1)
    await store.save_feedback(CHAT, "r1", "bob", -1)
    await store.save_feedback(CHAT, "r2", "alice", -1)
    assert await store.feedback(CHAT, "r1") == {"alice": 1, "bob": -1}

    await store.save_feedback(CHAT, "r1", "alice", -1)

    assert await store.feedback(CHAT, "r1") == {"alice": -1, "bob": -1}
    assert await store.feedback(CHAT, "r2") == {"alice": -1}
    assert await store.feedback(OTHER_CHAT, "r1") == {}


async def test_feedback_expires(harness: StoreHarness) -> None:
    await harness.store.save_feedback(CHAT, "r1", "alice", 1)

    async def present() -> bool:
        return bool(await harness.store.feedback(CHAT, "r1"))

    key = harness.keys.feedback(CHAT, "r1")
    await harness.assert_expires_after(key, FEEDBACK_TTL_SECONDS, present)


async def test_forget_sender_removes_only_their_feedback(harness: StoreHarness) -> None:
    store = harness.store
    await store.save_feedback(CHAT, "r1", "alice", 1)
    await store.save_feedback(CHAT, "r1", "bob", 1)
    await store.save_feedback(CHAT, "r2", "alice", -1)
    await store.save_feedback(OTHER_CHAT, "r1", "alice", 1)

    await store.forget_sender(CHAT, "alice")

    assert await store.feedback(CHAT, "r1") == {"bob": 1}
    assert await store.feedback(CHAT, "r2") == {}
    assert await store.feedback(OTHER_CHAT, "r1") == {"alice": 1}

    # A rating given after /forget is kept and can be forgotten again.
    await store.save_feedback(CHAT, "r3", "alice", 1)
    assert await store.feedback(CHAT, "r3") == {"alice": 1}
    await store.forget_sender(CHAT, "alice")
    assert await store.feedback(CHAT, "r3") == {}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (ConversationRef("slack", "T1:C2", "C3"), ConversationRef("slack", "T1", "C2:C3")),
        (ConversationRef("slack", None, "C1"), ConversationRef("slack", "-", "C1")),
        (
            ConversationRef("telegram", None, "-100", "5"),
            ConversationRef("telegram", None, "-100:5"),
        ),
        (ConversationRef("discord", "G1", "C1", None), ConversationRef("discord", "G1", "C1", "-")),
        (ConversationRef("a:b", None, "c"), ConversationRef("a", "b", "c")),
        (ConversationRef("x", "%3A", "c"), ConversationRef("x", ":", "c")),
    ],
)
async def test_conversations_never_share_records(
    harness: StoreHarness, first: ConversationRef, second: ConversationRef
) -> None:
    store = harness.store
    await store.append_turn(first, turn(1), max_turns=5, ttl_seconds=60)
    await store.set_language(first, "pt")
    await store.save_feedback(first, "r1", "alice", 1)

    assert await store.history(second) == []
    assert await store.language(second) is None
    assert await store.feedback(second, "r1") == {}

    await store.append_turn(second, turn(2), max_turns=5, ttl_seconds=60)
    await store.forget_sender(second, "U1")
    await store.clear_history(second)
    assert await store.history(first) == [turn(1)]


async def test_feedback_reply_ids_never_collide(harness: StoreHarness) -> None:
    await harness.store.save_feedback(CHAT, "a:b", "alice", 1)
    await harness.store.save_feedback(CHAT, "a%3Ab", "alice", -1)
    assert await harness.store.feedback(CHAT, "a:b") == {"alice": 1}
    assert await harness.store.feedback(CHAT, "a%3Ab") == {"alice": -1}


async def test_invalid_arguments_are_rejected(harness: StoreHarness) -> None:
    store = harness.store
    with pytest.raises(ValueError, match="max_turns"):
        await store.append_turn(CHAT, turn(1), max_turns=0, ttl_seconds=60)
    with pytest.raises(ValueError, match="ttl_seconds"):
        await store.append_turn(CHAT, turn(1), max_turns=5, ttl_seconds=0)
    with pytest.raises(ValueError, match="ttl_seconds"):
        await store.claim("k", 0)
    with pytest.raises(ValueError, match="feedback value"):
        await store.save_feedback(CHAT, "r1", "alice", 2)
    assert await store.history(CHAT) == []
    assert await store.claim("k", 10) is True
    assert await store.feedback(CHAT, "r1") == {}


async def test_ping_answers(harness: StoreHarness) -> None:
    await harness.store.ping()
