"""The Slack adapter with the real Bolt app: exactly-once answers, HTTP signatures, commands,
thread follow-ups, feedback, and start-up errors."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator

import aiohttp
import pytest

from adapters.slack.adapter import HttpConfig, SlackAdapter
from adapters.slack.translate import to_incoming_message
from core.errors import ConfigurationError
from core.notices import notice
from tests.adapters.contract import Place
from tests.adapters.slack.harness import (
    CHANNEL,
    DM,
    THREAD_ROOT,
    USER,
    SlackHarness,
    signed_headers,
)
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.tgi import Script


def bot_texts(slack: SlackHarness, channel: str) -> list[str]:
    return [message.text for message in slack.api.visible(channel)]


async def test_one_post_as_mention_message_retries_and_after_a_restart_gets_one_answer(
    slack: SlackHarness,
) -> None:
    slack.rig.tgi.enqueue(Script(reply="Only once."), Script(reply="Twice?!"))
    said = await slack.say("Hello there", place=Place.GROUP)  # app_mention + message
    for envelope in slack.posts[said.event_id]:
        await slack.deliver(envelope, retry=1)  # Socket Mode retries (retry_attempt 1)
    await slack.settle()
    await slack.redeliver(said)  # a restarted app gets the retries again
    await slack.settle()
    assert bot_texts(slack, CHANNEL) == ["Only once."]
    assert len(slack.rig.tgi.generation_requests()) == 1
    assert slack.api.all_acked()


async def test_http_retries_are_acknowledged_and_answered_once(slack_http: SlackHarness) -> None:
    slack = slack_http
    slack.rig.tgi.enqueue(Script(reply="Only once."), Script(reply="Twice?!"))
    said = await slack.say("Hello there", place=Place.THREAD)
    for envelope in slack.posts[said.event_id]:
        assert await slack.deliver(envelope, retry=2) == 200
    await slack.settle()
    assert [m.text for m in slack.shown(Place.THREAD)] == ["Only once."]
    assert set(slack.http_statuses) == {200}


async def post_raw(url: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status, await r.text()


async def test_http_requests_with_a_bad_or_stale_signature_are_refused(
    slack_http: SlackHarness,
) -> None:
    slack = slack_http
    adapter = await slack.start()
    body = json.dumps(slack.post_events("Hi", Place.PRIVATE, True)[0])
    plain = {"Content-Type": "application/json"}
    wrong = signed_headers(body, secret="not-the-signing-secret")
    stale = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    assert (await post_raw(adapter.http_url, body, plain | wrong))[0] == 401
    assert (await post_raw(adapter.http_url, body, plain | stale))[0] == 401
    assert (await post_raw(adapter.http_url, body, plain))[0] == 401
    tampered = signed_headers(body)
    assert (await post_raw(adapter.http_url, body + " ", plain | tampered))[0] == 401
    # Slack's URL check when the request URL is saved in the app settings.
    challenge = json.dumps({"token": "x", "challenge": "c-123", "type": "url_verification"})
    status, text = await post_raw(adapter.http_url, challenge, plain | signed_headers(challenge))
    assert status == 200 and "c-123" in text
    await slack.settle()
    assert slack.api.visible(DM) == [] and slack.rig.tgi.generation_requests() == []


def slash_payload(slack: SlackHarness, text: str, channel: str = DM) -> dict[str, str]:
    return {
        "token": "verification-token-unused",
        "team_id": slack.api.team_id,
        "team_domain": "bloom-lab",
        "channel_id": channel,
        "channel_name": "directmessage" if channel.startswith("D") else "general",
        "user_id": USER,
        "user_name": "alice",
        "command": "/bloombridge",
        "text": text,
        "api_app_id": "A0BLOOM01",
        "response_url": slack.api.response_url(),
        "trigger_id": f"trigger-{time.monotonic_ns()}",
    }


async def test_the_slash_command_is_acknowledged_then_answered_through_its_response_url(
    slack_any_mode: SlackHarness,
) -> None:
    slack = slack_any_mode
    started = time.monotonic()
    assert await slack.deliver(slash_payload(slack, "lang fr"), kind="slash_commands") == 200
    assert time.monotonic() - started < 3
    await slack.deliver(slash_payload(slack, "help"), kind="slash_commands")
    await slack.settle()
    answers = [response["text"] for response in slack.api.responses]
    assert len(answers) == 2 and all(r["response_type"] == "ephemeral" for r in slack.api.responses)
    assert answers[0].startswith("Désormais")  # confirmed in French, the language chosen
    assert "/lang" in answers[1]
    assert await slack.rig.store.language(slack.conversation(Place.PRIVATE)) == "fr"
    assert slack.rig.tgi.generation_requests() == []
    assert slack.api.visible(DM) == []  # only the person who typed the command sees answers


async def test_unknown_slash_words_and_an_empty_mention_get_a_clear_answer(
    slack: SlackHarness,
) -> None:
    await slack.deliver(slash_payload(slack, "frobnicate now"), kind="slash_commands")
    await slack.say("", place=Place.THREAD)  # only the bot's mention
    await slack.settle()
    (unknown,) = slack.api.responses
    assert "/frobnicate" in unknown["text"] and "/help" in unknown["text"]
    (help_text,) = slack.shown(Place.THREAD)
    assert "empty" in help_text.text
    assert slack.rig.tgi.generation_requests() == []


async def test_command_words_work_as_plain_messages_in_a_dm(slack: SlackHarness) -> None:
    await slack.say("lang fr", place=Place.PRIVATE)
    await slack.say("reset", place=Place.PRIVATE)
    await slack.settle()
    assert await slack.rig.store.language(slack.conversation(Place.PRIVATE)) == "fr"
    assert len(bot_texts(slack, DM)) == 2
    assert slack.rig.tgi.generation_requests() == []


async def test_command_words_work_after_a_mention_in_a_thread(slack: SlackHarness) -> None:
    await slack.say("lang fr", place=Place.THREAD)
    await slack.settle()
    assert await slack.rig.store.language(slack.conversation(Place.THREAD)) == "fr"
    assert slack.rig.tgi.generation_requests() == []
    (shown,) = slack.shown(Place.THREAD)
    assert shown.text.startswith("Désormais")


async def test_follow_ups_in_a_thread_the_bot_answered_need_no_mention(
    slack: SlackHarness,
) -> None:
    slack.rig.tgi.enqueue(Script(reply="First answer."), Script(reply="Follow-up answer."))
    said = await slack.say("What is BLOOM?", place=Place.GROUP)
    await slack.settle()  # the app restarts between the two: the store remembers the thread
    follow_up = slack.post_events("And who trained it?", Place.GROUP, addressed=False)[0]
    follow_up["event"] |= {"thread_ts": said.message_id, "parent_user_id": USER}
    await slack.deliver(follow_up)
    # A thread the bot never answered in: people talking among themselves.
    await slack.say("Lunch?", place=Place.THREAD, addressed=False)
    await slack.settle()
    replies = [(m.thread_ts, m.text) for m in slack.api.visible(CHANNEL)]
    assert replies == [
        (said.message_id, "First answer."),
        (said.message_id, "Follow-up answer."),
    ]
    assert all(m.thread_ts != THREAD_ROOT for m in slack.api.visible(CHANNEL))


async def test_edits_deletions_and_bot_posts_get_no_answer(slack: SlackHarness) -> None:
    said = await slack.say("What is BLOOM?", place=Place.GROUP, addressed=False)
    edited = slack.envelope(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": CHANNEL,
            "channel_type": "channel",
            "hidden": True,
            "ts": "1790009999.000001",
            "message": {
                "user": USER,
                "type": "message",
                "ts": said.message_id,
                "text": f"<@{slack.api.bot_user_id}> What is BLOOM, exactly?",
            },
        }
    )
    bot_post = slack.envelope(
        {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": "B0OTHER",
            "text": f"<@{slack.api.bot_user_id}> deploy done",
            "ts": "1790009999.000002",
            "channel": CHANNEL,
            "channel_type": "channel",
        }
    )
    for envelope in (edited, bot_post):
        await slack.deliver(envelope)
    await slack.settle()
    assert slack.api.visible(CHANNEL) == [] and slack.rig.tgi.generation_requests() == []


async def test_feedback_is_stored_per_reply_and_thanked(slack_http: SlackHarness) -> None:
    slack = slack_http
    slack.rig.tgi.enqueue(Script(reply="Rate me."), Script(reply="Rate me too."))
    await slack.say("One", place=Place.PRIVATE)
    await slack.say("Two", place=Place.PRIVATE)
    await slack.settle()
    first, second = slack.shown(Place.PRIVATE)
    await slack.rate(Place.PRIVATE, first, 1)
    await slack.rate(Place.PRIVATE, second, -1)
    await slack.settle()
    conversation = slack.conversation(Place.PRIVATE)
    turns = await slack.rig.store.history(conversation)
    assert [await slack.rig.store.feedback(conversation, t.reply_id) for t in turns] == [
        {USER: 1},
        {USER: -1},
    ]
    assert len(slack.api.responses) == 2
    assert all(r["response_type"] == "ephemeral" for r in slack.api.responses)


async def test_the_users_slack_locale_is_the_language_hint(slack: SlackHarness) -> None:
    slack.rig.tgi.enqueue(Script(reply="Bonjour."))
    envelope = slack.post_events("ok", Place.PRIVATE, True)[0]  # too short to detect
    envelope["event"]["user"] = "U0ZOEFR"  # the fake's users.info: locale fr-FR
    await slack.deliver(envelope)
    await slack.settle()
    assert slack.api.calls_to("users.info")[0].params["user"] == "U0ZOEFR"
    (turn,) = await slack.rig.store.history(slack.conversation(Place.PRIVATE))
    assert turn.language == "fr"


async def test_the_thinking_status_is_in_the_users_language(slack: SlackHarness) -> None:
    slack.rig.tgi.enqueue(Script(reply="Bonjour."))
    envelope = slack.post_events("salut", Place.THREAD, True)[0]
    envelope["event"]["user"] = "U0ZOEFR"  # the fake's users.info: locale fr-FR
    await slack.deliver(envelope)
    await slack.settle()
    assert slack.api.statuses[0]["status"] == "réfléchit…"


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


async def test_tokens_never_reach_a_log_line(slack: SlackHarness, debug_log: io.StringIO) -> None:
    slack.rig.tgi.enqueue(Script(reply="Logged?"))
    await slack.say("Hi", place=Place.GROUP)
    await slack.settle()
    output = debug_log.getvalue()
    assert "chat.startStream" in output or "startStream" in output  # debug logging was on
    assert slack.api.bot_token not in output and slack.api.app_token not in output


async def test_refused_tokens_are_configuration_errors_without_the_token(
    slack: SlackHarness, debug_log: io.StringIO
) -> None:
    api = slack.api
    wrong_bot = "xoxb-wrong-bot-token-value"
    adapter = SlackAdapter(
        slack.rig.dialog, bot_token=wrong_bot, app_token=api.app_token, api_url=api.base_url
    )
    with pytest.raises(ConfigurationError, match="bot token") as refused:
        await adapter.start()
    assert wrong_bot not in str(refused.value)
    wrong_app = "xapp-wrong-app-token-value"
    adapter = SlackAdapter(
        slack.rig.dialog, bot_token=api.bot_token, app_token=wrong_app, api_url=api.base_url
    )
    with pytest.raises(ConfigurationError, match="app-level token"):
        await adapter.start()
    assert not adapter.connected
    assert wrong_bot not in debug_log.getvalue() and wrong_app not in debug_log.getvalue()
    assert "secret" not in repr(HttpConfig(port=1, signing_secret="secret"))
    with pytest.raises(ConfigurationError, match="signing secret"):
        await SlackAdapter(
            slack.rig.dialog,
            bot_token=api.bot_token,
            http=HttpConfig(port=0, signing_secret=""),
            api_url=api.base_url,
        ).start()


async def test_the_fake_refuses_streams_without_recipient_in_channels() -> None:
    async with FakeSlackAPI() as api:
        from slack_sdk.errors import SlackApiError
        from slack_sdk.web.async_client import AsyncWebClient

        client = AsyncWebClient(token=api.bot_token, base_url=api.base_url)
        with pytest.raises(SlackApiError, match="missing_recipient"):
            await client.chat_startStream(channel=CHANNEL, thread_ts="1.2", markdown_text="x")
        started = await client.chat_startStream(channel=DM, thread_ts="1.2", markdown_text="x")
        assert started["ts"]


async def test_a_queue_worker_sends_through_the_web_api_only_in_the_senders_language(
    slack: SlackHarness,
) -> None:
    adapter = SlackAdapter(
        slack.rig.dialog, bot_token=slack.api.bot_token, api_url=slack.api.base_url
    )
    await adapter.start_sending()
    try:
        assert adapter.connected
        envelope = slack.post_events("ok", Place.PRIVATE, True)[0]
        envelope["event"]["user"] = "U0ZOEFR"  # the fake's users.info: locale fr-FR
        message = to_incoming_message(envelope, adapter.identity)
        assert message is not None
        await adapter.tell_queued(message, 3)
    finally:
        await adapter.stop()
    assert not adapter.connected
    assert not slack.api.calls_to("apps.connections.open")  # no Socket Mode: sending only
    (shown,) = slack.api.visible(DM)
    assert notice("queued", "fr", position=3) in shown.text
