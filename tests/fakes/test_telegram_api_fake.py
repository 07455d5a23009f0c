"""The fake Bot API answers python-telegram-bot the way Telegram does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, MessageEntity
from telegram.error import BadRequest, RetryAfter

from tests.fakes.telegram_api import ApiError, FakeTelegramAPI


@pytest.fixture
async def api_and_bot() -> AsyncIterator[tuple[FakeTelegramAPI, Bot]]:
    async with FakeTelegramAPI() as api:
        bot = Bot(api.token, base_url=f"{api.url}/bot")
        async with bot:
            yield api, bot


async def test_messages_are_kept_and_edits_checked(
    api_and_bot: tuple[FakeTelegramAPI, Bot],
) -> None:
    api, bot = api_and_bot
    assert bot.username == api.bot_username
    sent = await bot.send_message(42, "héllo 😀", entities=[MessageEntity("bold", 6, 2)])
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "héllo 😀", 42, sent.message_id, entities=[MessageEntity("bold", 6, 2)]
        )
    await bot.edit_message_text("bye", 42, sent.message_id)
    assert [m.text for m in api.visible(42)] == ["bye"]
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(42, "ab", entities=[MessageEntity("bold", 1, 5)])
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(42, "😀" * 2049)  # 4098 UTF-16 units
    with pytest.raises(BadRequest, match=r"(?i)empty"):
        await bot.send_message(42, "  ")


async def test_scripted_failures_and_drafts(api_and_bot: tuple[FakeTelegramAPI, Bot]) -> None:
    api, bot = api_and_bot
    api.fail("sendMessage", ApiError.flood_wait(3), after=1)
    await bot.send_message(1, "first passes")
    with pytest.raises(RetryAfter):
        await bot.send_message(1, "second is refused")
    await bot.send_message(1, "third passes")
    assert [call.failed is not None for call in api.calls_to("sendMessage")] == [False, True, False]
    assert await bot.send_message_draft(1, 7, "drafting")
    with pytest.raises(BadRequest):
        await bot.send_message_draft(-100, 7, "groups have no drafts")
    assert api.drafts == {(1, 7): "drafting"}


async def test_get_updates_feeds_and_confirms(api_and_bot: tuple[FakeTelegramAPI, Bot]) -> None:
    api, bot = api_and_bot
    (first,) = api.feed(
        {"message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}}
    )
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first]
    assert not api.all_received()
    assert await bot.get_updates(offset=first + 1, timeout=0) == ()
    assert api.all_received()
