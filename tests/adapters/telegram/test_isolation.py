"""Telegram under pressure: a flooding chat, redelivered votes (real PTB, fake Bot API, Redis)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from core.notices import notice
from tests.adapters.contract import Place, VirtualClock, dialog_rig
from tests.adapters.telegram.harness import FORUM_CHAT_ID, PRIVATE_CHAT_ID, TelegramHarness
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.tgi import Script
from tests.fakes.tgi_script import GenerateCall

# Wall-clock bound for the quiet chat's first answer; it took about 65 s before the intake.
QUIET_CHAT_BOUND_SECONDS = 5.0


@pytest.fixture
async def harness(redis_url: str, redis_namespace: str) -> AsyncIterator[TelegramHarness]:
    clock = VirtualClock()
    async with (
        dialog_rig(redis_url, redis_namespace) as rig,
        FakeTelegramAPI(clock=clock.now) as api,
    ):
        telegram = TelegramHarness(rig, api, clock)
        try:
            yield telegram
        finally:
            await telegram.close()


def slow_in_the_busy_chat(call: GenerateCall) -> Script:
    """Each answer in the flooding chat takes a while; anything else is quick."""
    if "flood" in call.inputs:
        return Script(reply="Answer to the flood " + "word " * 20, token_delay=0.02)
    return Script(reply="The quiet chat is answered.")


async def test_eighty_messages_in_one_chat_do_not_hold_up_another_chat(
    harness: TelegramHarness,
) -> None:
    harness.rig.tgi.responder = slow_in_the_busy_chat
    await harness.start()
    for number in range(80):
        harness.api.feed(harness.message_update(f"flood {number}", Place.GROUP, True))
    await harness.api.wait_until(lambda: len(harness.rig.tgi.generation_requests()) >= 1)
    quiet_said = time.monotonic()
    harness.api.feed(harness.message_update("Hello?", Place.PRIVATE, True))
    await harness.api.wait_until(
        lambda: any(m.reply_markup for m in harness.api.visible(PRIVATE_CHAT_ID)),
        within=QUIET_CHAT_BOUND_SECONDS,
    )
    assert time.monotonic() - quiet_said < QUIET_CHAT_BOUND_SECONDS
    assert [m.text for m in harness.api.visible(PRIVATE_CHAT_ID)] == ["The quiet chat is answered."]
    await harness.settle()
    # The flooding chat got answers for what it could queue and one notice to slow down, not
    # a growing queue: most of its messages never reached the model.
    group_texts = [m.text for m in harness.api.visible(FORUM_CHAT_ID)]
    wait_notice = notice("rate_limited", "en", seconds=30)
    assert group_texts.count(wait_notice) == 1
    answered = [text for text in group_texts if text.startswith("Answer to the flood")]
    assert 1 <= len(answered) <= 10
    flood_requests = [r for r in harness.rig.tgi.generation_requests() if "flood" in str(r.body)]
    assert len(flood_requests) == len(answered)


async def test_a_vote_delivered_twice_is_recorded_once(harness: TelegramHarness) -> None:
    harness.rig.tgi.enqueue(Script(reply="Rate me."))
    await harness.say("Say something", place=Place.GROUP)
    await harness.settle()
    (reply,) = harness.shown(Place.GROUP)
    await harness.rate(Place.GROUP, reply, -1)  # 👎, then the user changes their mind: 👍
    await harness.rate(Place.GROUP, reply, 1)
    await harness.settle()
    # The first press arrives again (a client retry): same callback query, a new update.
    down_press = harness.votes[0]["callback_query"]
    assert down_press["data"].startswith("fb:down:")
    await harness.start()
    harness.api.feed({"callback_query": down_press})
    await harness.settle()
    conversation = harness.conversation(Place.GROUP)
    (turn,) = await harness.rig.store.history(conversation)
    assert await harness.rig.store.feedback(conversation, turn.reply_id) == {harness.user_id: 1}
