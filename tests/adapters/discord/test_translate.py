"""Normalization of recorded Discord gateway events: each payload against its expected message."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.translate import (
    BotIdentity,
    ChannelContext,
    CommandCall,
    InteractionFacts,
    command_message,
    conversation_for,
    message_place,
    to_feedback,
    to_incoming_message,
)
from adapters.feedback import encode_vote
from core.messages import ConversationRef, IncomingMessage, PlaceKind

DATA = Path(__file__).parents[2] / "data" / "discord"
CASES = sorted(DATA.glob("*.json"))


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
            "kind": message.conversation.kind.value,
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


def test_every_required_kind_of_message_is_recorded() -> None:
    names = {case.stem for case in CASES}
    required = {
        "guild_mention",
        "role_mention",
        "everyone",
        "reply_to_bot",
        "direct_message",
        "thread_message",
        "other_bot",
    }
    assert required <= names


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_recorded_message_normalizes_as_expected(case: Path) -> None:
    recorded = json.loads(case.read_text(encoding="utf-8"))
    assert recorded["event"]["t"] == "MESSAGE_CREATE"
    payload = recorded["event"]["d"]
    bot = BotIdentity(**recorded["bot"])
    message = to_incoming_message(payload, bot, ChannelContext(**recorded["context"]))
    assert as_expected(message) == recorded["expected"], recorded["description"]
    if message is not None:
        assert message.raw is payload


def _recorded(name: str) -> tuple[dict[str, Any], BotIdentity]:
    recorded = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return recorded["event"]["d"], BotIdentity(**recorded["bot"])


def test_legacy_nickname_mention_counts_and_is_stripped() -> None:
    payload, bot = _recorded("guild_mention")
    payload = {**payload, "content": f"<@!{bot.user_id}>: hello"}
    message = to_incoming_message(payload, bot)
    assert message is not None and message.addressed_to_bot and message.text == "hello"


def test_a_reply_ping_alone_is_not_a_mention_to_strip() -> None:
    # The replied-to author is listed in `mentions` without `<@id>` in the text.
    payload, bot = _recorded("reply_to_bot")
    message = to_incoming_message(payload, bot)
    assert message is not None and message.text == "and in French?"


def test_everyone_together_with_a_direct_mention_is_answered() -> None:
    payload, bot = _recorded("guild_mention")
    payload = {
        **payload,
        "content": f"@everyone <@{bot.user_id}> summarise the thread",
        "mention_everyone": True,
    }
    message = to_incoming_message(payload, bot)
    assert message is not None and message.addressed_to_bot
    assert message.text == "@everyone summarise the thread"


def test_role_of_another_bot_is_not_a_mention() -> None:
    payload, bot = _recorded("role_mention")
    message = to_incoming_message(payload, BotIdentity(bot.user_id, role_id="999"))
    assert message is not None and not message.addressed_to_bot


@pytest.mark.parametrize("message_type", [7, 8, 18, 20])
def test_system_and_command_messages_are_ignored(message_type: int) -> None:
    payload, bot = _recorded("guild_mention")
    assert to_incoming_message({**payload, "type": message_type}, bot) is None


def test_webhook_messages_are_ignored() -> None:
    payload, bot = _recorded("guild_mention")
    assert to_incoming_message({**payload, "webhook_id": "1"}, bot) is None


def _facts(**changes: Any) -> InteractionFacts:
    facts = InteractionFacts(
        interaction_id="900",
        user_id="1300000000000000001",
        user_name="Alice",
        locale="pt-BR",
        guild_id="1100000000000000001",
        channel_id="1100000000000000777",
        thread_parent_id="1100000000000000010",
        created_at=datetime(2024, 11, 25, 10, 0, tzinfo=UTC),
    )
    return dataclasses.replace(facts, **changes)


def test_slash_command_becomes_a_core_message_with_the_locale_hint() -> None:
    message = command_message(CommandCall(_facts(), "ask", "  Qual é a capital do Brasil? "))
    assert message.text == "Qual é a capital do Brasil?"
    assert message.sender.locale_hint == "pt-BR"
    assert message.conversation == ConversationRef(
        "discord", "1100000000000000001", "1100000000000000010", "1100000000000000777"
    )
    assert message.conversation.kind is PlaceKind.THREAD
    assert message.addressed_to_bot and message.id == "interaction-900"
    assert command_message(CommandCall(_facts(), "lang", "sw")).text == "/lang sw"
    assert command_message(CommandCall(_facts(), "reset", None)).text == "/reset"


def test_slash_command_in_a_dm_is_private() -> None:
    message = command_message(
        CommandCall(_facts(guild_id=None, thread_parent_id=None), "help", None)
    )
    assert message.conversation.kind is PlaceKind.PRIVATE
    assert message.conversation.space is None


def test_feedback_press_becomes_a_vote_in_the_conversation_of_the_reply() -> None:
    vote = to_feedback(_facts(thread_parent_id=None, channel_id="10"), encode_vote("abc123", -1))
    assert vote is not None
    assert (vote.reply_id, vote.value, vote.sender_id) == ("abc123", -1, "1300000000000000001")
    assert vote.conversation == ConversationRef("discord", "1100000000000000001", "10")
    assert vote.event_id == "900" and vote.locale_hint == "pt-BR"
    assert to_feedback(_facts(), "some-other-button") is None


def test_the_place_of_a_message_is_its_guild_and_channel() -> None:
    dm, _ = _recorded("direct_message")
    thread, _ = _recorded("thread_message")
    assert message_place(dm) == (None, "1400000000000000005")
    assert message_place(thread) == ("1100000000000000001", "1100000000000000777")


def test_dm_and_channel_conversations_never_share_a_key() -> None:
    keys = {
        conversation_for(None, "5", None).key,
        conversation_for("1", "5", None).key,
        conversation_for("1", "5", "4").key,
        conversation_for("1", "4", None).key,
    }
    assert len(keys) == 4
