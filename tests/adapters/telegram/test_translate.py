"""Normalization of recorded Telegram updates: each payload against its expected message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.feedback import encode_vote
from adapters.telegram.translate import (
    BotIdentity,
    conversation_of,
    to_feedback,
    to_incoming_message,
)
from core.messages import ConversationRef, IncomingMessage

DATA = Path(__file__).parents[2] / "data" / "telegram"
CASES = sorted(DATA.glob("*.json"))
BOT = BotIdentity(id=123456, username="bloom_test_bot")


def as_expected(message: IncomingMessage | None) -> dict[str, Any] | None:
    if message is None:
        return None
    return {
        "id": message.id,
        "conversation": {
            "platform": message.conversation.platform,
            "space": message.conversation.space,
            "channel": message.conversation.channel,
            "thread": message.conversation.thread,
        },
        "sender": {
            "id": message.sender.id,
            "display_name": message.sender.display_name,
            "is_bot": message.sender.is_bot,
            "locale_hint": message.sender.locale_hint,
        },
        "text": message.text,
        "sent_at": message.sent_at.isoformat(),
        "addressed_to_bot": message.addressed_to_bot,
        "reply_to": message.reply_to,
    }


def test_every_required_kind_of_update_is_recorded() -> None:
    names = {case.stem for case in CASES}
    required = {
        "private_message",
        "group_mention",
        "group_reply_to_bot",
        "forum_topic",
        "anonymous_admin",
        "edited_message",
        "channel_post",
    }
    assert required <= names


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_recorded_update_normalizes_to_its_expected_message(case: Path) -> None:
    recorded = json.loads(case.read_text(encoding="utf-8"))
    bot = BotIdentity(**recorded["bot"])
    message = to_incoming_message(recorded["update"], bot)
    assert as_expected(message) == recorded["expected"]
    if message is not None:
        assert message.raw == recorded["update"]


def test_forum_topics_are_separate_conversations_of_one_chat() -> None:
    chat = {"id": -1009876543210, "type": "supergroup", "is_forum": True}
    in_topic = {"chat": chat, "message_thread_id": 42, "is_topic_message": True}
    general = {"chat": chat}
    # A reply thread in a non-forum group carries a thread id too, but is no topic.
    reply_thread = {"chat": chat, "message_thread_id": 9}
    assert conversation_of(in_topic) == ConversationRef("telegram", None, "-1009876543210", "42")
    assert conversation_of(general) == ConversationRef("telegram", None, "-1009876543210")
    assert conversation_of(reply_thread) == conversation_of(general)
    assert conversation_of(in_topic).key != conversation_of(general).key


def test_mention_inside_the_text_is_removed_tidily() -> None:
    text = "Tell me, @Bloom_Test_Bot: what is BLOOM?"
    update = {
        "update_id": 1,
        "message": {
            "message_id": 5,
            "date": 1732530000,
            "chat": {"id": -100, "type": "group", "title": "g"},
            "from": {"id": 7, "is_bot": False, "first_name": "Eve"},
            "text": text,
            "entities": [{"type": "mention", "offset": 9, "length": 15}],
        },
    }
    message = to_incoming_message(update, BOT)
    assert message is not None
    assert message.addressed_to_bot
    assert message.text == "Tell me, what is BLOOM?"


def test_caption_of_a_photo_is_the_text_and_a_sticker_is_ignored() -> None:
    base = {
        "message_id": 6,
        "date": 1732530000,
        "chat": {"id": 7, "type": "private", "first_name": "Eve"},
        "from": {"id": 7, "is_bot": False, "first_name": "Eve"},
    }
    photo = {"update_id": 2, "message": base | {"photo": [], "caption": "What is in it?"}}
    sticker = {"update_id": 3, "message": base | {"sticker": {"file_id": "x"}}}
    message = to_incoming_message(photo, BOT)
    assert message is not None and message.text == "What is in it?"
    assert to_incoming_message(sticker, BOT) is None


def test_feedback_press_becomes_a_vote_on_the_reply() -> None:
    update = {
        "update_id": 9,
        "callback_query": {
            "id": "4382",
            "from": {"id": 111, "is_bot": False, "first_name": "Ann", "language_code": "de"},
            "chat_instance": "-1",
            "data": encode_vote("0f3a9c21d4e5b6a7", -1),
            "message": {
                "message_id": 5003,
                "date": 1732530000,
                "chat": {"id": -1009876543210, "type": "supergroup"},
                "message_thread_id": 42,
                "is_topic_message": True,
                "text": "…",
            },
        },
    }
    vote = to_feedback(update)
    assert vote is not None
    assert vote.conversation == ConversationRef("telegram", None, "-1009876543210", "42")
    assert (vote.reply_id, vote.sender_id, vote.value) == ("0f3a9c21d4e5b6a7", "111", -1)
    assert vote.locale_hint == "de"
    assert len(encode_vote("x" * 55, 1).encode()) <= 64


@pytest.mark.parametrize("data", ["", "fb:maybe:abc", "fb:up:", "other:up:abc"])
def test_foreign_callback_data_is_no_vote(data: str) -> None:
    update = {
        "update_id": 10,
        "callback_query": {
            "id": "1",
            "from": {"id": 1, "is_bot": False, "first_name": "A"},
            "chat_instance": "-1",
            "data": data,
            "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}},
        },
    }
    assert to_feedback(update) is None
