"""Slack payload normalization on recorded envelopes, each beside its expected message."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.translate import (
    BotIdentity,
    event_key,
    from_slash_command,
    readable_text,
    to_feedback,
    to_incoming_message,
)
from core.messages import ConversationRef, IncomingMessage, PlaceKind

DATA = Path(__file__).parents[2] / "data" / "slack"
BOT = BotIdentity(user_id="U0BLOOMBOT", bot_id="B0BLOOMBOT", team_id="T0BLOOM01")
EVENT_FILES = sorted(
    path.stem for path in DATA.glob("*.json") if "envelope" in json.loads(path.read_text())
)


def recorded(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def conversation(expected: dict[str, Any]) -> ConversationRef:
    return ConversationRef(
        expected["platform"],
        expected["space"],
        expected["channel"],
        expected["thread"],
        PlaceKind(expected["kind"]),
    )


def check(message: IncomingMessage, expected: dict[str, Any]) -> None:
    assert message.id == expected["id"]
    assert message.conversation == conversation(expected["conversation"])
    assert message.conversation.kind is PlaceKind(expected["conversation"]["kind"])
    assert message.sender.id == expected["sender"]["id"]
    assert message.sender.locale_hint == expected["sender"]["locale_hint"]
    assert message.text == expected["text"]
    assert message.addressed_to_bot is expected["addressed_to_bot"]
    assert message.reply_to == expected["reply_to"]
    if "sent_at" in expected:
        assert message.sent_at == datetime.fromisoformat(expected["sent_at"])


def test_every_kind_of_event_is_recorded() -> None:
    assert {
        "app_mention",
        "dm",
        "thread_reply",
        "bot_message",
        "message_changed",
        "retry",
    } <= set(EVENT_FILES)


@pytest.mark.parametrize("name", EVENT_FILES)
def test_recorded_envelope_normalizes_to_its_expected_message(name: str) -> None:
    data = recorded(name)
    message = to_incoming_message(data["envelope"], BOT)
    if data["expected"] is None:
        assert message is None
        return
    assert message is not None
    check(message, data["expected"])
    assert message.raw == data["envelope"]


def test_envelope_alone_names_the_bot_through_its_authorizations() -> None:
    # Without auth.test's answer, the envelope's own authorizations identify the bot.
    message = to_incoming_message(recorded("app_mention")["envelope"])
    assert message is not None and message.text.startswith("what is BLOOM")
    assert to_incoming_message(recorded("own_message")["envelope"]) is None


def test_one_post_has_one_key_across_event_types_and_retries() -> None:
    keys = set()
    for name in ("app_mention", "app_mention_as_message", "retry"):
        message = to_incoming_message(recorded(name)["envelope"], BOT)
        assert message is not None
        keys.add(event_key(message))
    assert len(keys) == 1
    other = to_incoming_message(recorded("thread_reply")["envelope"], BOT)
    assert other is not None and event_key(other) not in keys


def test_retry_is_the_socket_mode_redelivery_of_the_mention() -> None:
    data = recorded("retry")
    assert data["socket_mode_envelope"]["retry_attempt"] == 1
    assert data["socket_mode_envelope"]["payload"] == recorded("app_mention")["envelope"]


def test_a_channel_message_that_mentions_the_bot_is_addressed() -> None:
    message = to_incoming_message(recorded("app_mention_as_message")["envelope"], BOT)
    assert message is not None and message.addressed_to_bot


def test_locale_hint_is_passed_through() -> None:
    message = to_incoming_message(recorded("dm")["envelope"], BOT, locale_hint="fr-FR")
    assert message is not None and message.sender.locale_hint == "fr-FR"


@pytest.mark.parametrize(
    ("text", "readable"),
    [
        ("<@U0BLOOMBOT> hi", "hi"),
        ("<@U0BLOOMBOT>, hi there", "hi there"),
        ("hi <@U0BLOOMBOT>", "hi"),
        ("ask <@U0BLOOMBOT> about <@U0BOB42|bob>", "ask about @bob"),
        ("ping <@U0BOB42>", "ping @U0BOB42"),
        ("see <https://x.org/a?b=1&amp;c=2>", "see https://x.org/a?b=1&c=2"),
        ("see <https://x.org|the site>", "see the site (https://x.org)"),
        ("mail <mailto:a@b.org|a@b.org>", "mail a@b.org"),
        ("<!here> lunch", "@here lunch"),
        ("<!subteam^S0ENG|@engineers> look", "@engineers look"),
        ("<!date^1790000000^{date_short}|Sep 21> ok", "Sep 21 ok"),
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"),
        ("&amp;lt; stays", "&lt; stays"),
    ],
)
def test_references_become_readable(text: str, readable: str) -> None:
    assert readable_text(text, "U0BLOOMBOT") == readable


def test_slash_command_reads_as_the_command_message() -> None:
    data = recorded("slash_command")
    now = datetime(2026, 9, 21, 14, 30, tzinfo=UTC)
    message = from_slash_command(data["payload"], now=now)
    check(message, data["expected"])
    assert message.sent_at == now


@pytest.mark.parametrize(
    ("words", "command"),
    [("", "/help"), ("help", "/help"), ("reset", "/reset"), ("lang  auto", "/lang auto")],
)
def test_slash_command_words(words: str, command: str) -> None:
    payload = {**recorded("slash_command")["payload"], "text": words, "channel_id": "C0GENERAL"}
    payload["channel_name"] = "general"
    message = from_slash_command(payload, now=datetime(2026, 9, 21, tzinfo=UTC))
    assert message.text == command
    assert message.conversation.kind is PlaceKind.GROUP


def test_feedback_press_is_decoded() -> None:
    data = recorded("feedback_down")
    vote = to_feedback(data["payload"])
    expected = data["expected"]
    assert vote is not None
    assert vote.event_id == expected["event_id"]
    assert vote.conversation == conversation(expected["conversation"])
    assert (vote.reply_id, vote.sender_id, vote.value) == (
        expected["reply_id"],
        expected["sender_id"],
        expected["value"],
    )


def test_other_actions_are_not_feedback() -> None:
    payload = recorded("feedback_down")["payload"]
    other = {**payload, "actions": [{**payload["actions"][0], "value": "something-else"}]}
    assert to_feedback(other) is None
    assert to_feedback({**payload, "type": "view_submission"}) is None
