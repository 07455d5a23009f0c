"""Telegram-only behaviour: webhook secret, drafts and their fallback, commands, formatting."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from adapters.telegram.webhook import WebhookConfig
from core.notices import notice
from tests.adapters.contract import Place, VirtualClock, dialog_rig
from tests.adapters.telegram.harness import FORUM_CHAT_ID, PRIVATE_CHAT_ID, TelegramHarness
from tests.fakes.telegram_api import ApiError, FakeTelegramAPI
from tests.fakes.tgi import Script

DATA = Path(__file__).parents[2] / "data" / "telegram"
SECRET = "s3cret-Token_for-webhooks"

HarnessFactory = Callable[..., AbstractAsyncContextManager[TelegramHarness]]


@pytest.fixture
def make_harness(redis_url: str, redis_namespace: str) -> HarnessFactory:
    @asynccontextmanager
    async def make(
        *, drafts_supported: bool = True, webhook: WebhookConfig | None = None
    ) -> AsyncIterator[TelegramHarness]:
        clock = VirtualClock()
        async with (
            dialog_rig(redis_url, redis_namespace) as rig,
            FakeTelegramAPI(clock=clock.now, drafts_supported=drafts_supported) as api,
        ):
            harness = TelegramHarness(rig, api, clock, webhook=webhook)
            try:
                yield harness
            finally:
                await harness.close()

    return make


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_webhook_refuses_requests_without_the_secret_and_answers_once(
    make_harness: HarnessFactory,
) -> None:
    port = free_port()
    webhook = WebhookConfig(
        url="https://bot.example.org/telegram", secret_token=SECRET, listen="127.0.0.1", port=port
    )
    async with make_harness(webhook=webhook) as harness:
        harness.rig.tgi.enqueue(Script(reply="Hello through the webhook."), Script(reply="Again?!"))
        await harness.start()
        assert harness.api.webhook["url"] == "https://bot.example.org/telegram"
        assert harness.api.webhook["secret_token"] == SECRET
        update = {"update_id": 4242, **harness.message_update("Hi", Place.PRIVATE, True)}
        endpoint = f"http://127.0.0.1:{port}/telegram"
        header = "X-Telegram-Bot-Api-Secret-Token"
        async with httpx.AsyncClient(timeout=5.0) as client:
            missing = await client.post(endpoint, json=update)
            wrong = await client.post(endpoint, json=update, headers={header: "guess"})
            right = await client.post(endpoint, json=update, headers={header: SECRET})
            # Telegram retries a delivery it thinks failed: the same update id comes again.
            again = await client.post(endpoint, json=update, headers={header: SECRET})
        assert (missing.status_code, wrong.status_code) == (403, 403)
        assert (right.status_code, again.status_code) == (200, 200)
        await harness.settle()
        assert [m.text for m in harness.shown(Place.PRIVATE)] == ["Hello through the webhook."]
        assert len(harness.rig.tgi.generation_requests()) == 1


async def test_private_chat_streams_drafts_then_sends_the_final_message(
    make_harness: HarnessFactory,
) -> None:
    async with make_harness() as harness:
        reply = " ".join(f"token{n}" for n in range(30))
        harness.rig.tgi.enqueue(Script(reply=reply, token_delay=0.001))
        await harness.say("Stream to me")
        await harness.settle()
        api = harness.api
        assert len(api.calls_to("sendMessageDraft")) >= 2
        assert api.calls_to("editMessageText") == []
        (final,) = api.visible(PRIVATE_CHAT_ID)
        assert final.text == reply
        buttons = final.reply_markup["inline_keyboard"][0] if final.reply_markup else []
        assert [button["text"] for button in buttons] == ["👍", "👎"]


async def test_without_drafts_the_reply_is_a_message_edited_in_place(
    make_harness: HarnessFactory,
) -> None:
    async with make_harness(drafts_supported=False) as harness:
        reply = " ".join(f"token{n}" for n in range(30))
        harness.rig.tgi.enqueue(Script(reply=reply, token_delay=0.001), Script(reply="Second."))
        await harness.say("Stream to me")
        await harness.say("And again")
        await harness.settle()
        api = harness.api
        # The server said it has no such method once; the bot stops asking.
        assert len(api.calls_to("sendMessageDraft")) == 1
        assert len(api.calls_to("editMessageText")) >= 1
        assert [m.text for m in api.visible(PRIVATE_CHAT_ID)] == [reply, "Second."]


async def test_commands_are_registered_and_answered_in_groups(
    make_harness: HarnessFactory,
) -> None:
    async with make_harness() as harness:
        await harness.start()
        registered = [command["command"] for command in harness.api.commands[""]]
        assert registered == ["start", "help", "reset", "forget", "lang"]
        # Translated menus for the notice catalogs Telegram can name (two-letter codes).
        assert harness.api.commands["fr"][1]["description"] == notice("command_help", "fr")
        assert all(len(code) == 2 for code in harness.api.commands if code)
        assert not any(call.failed for call in harness.api.calls_to("setMyCommands"))
        update = harness.message_update("", Place.GROUP, False)
        update["message"]["text"] = "/start@bloom_test_bot"
        update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 21}]
        harness.api.feed(update)
        await harness.settle()
        (shown,) = harness.shown(Place.GROUP)
        assert shown.text.startswith(notice("help", "en").splitlines()[0])
        assert shown.replies_to == str(update["message"]["message_id"])
        assert harness.rig.tgi.generation_requests() == []


async def test_code_block_split_across_messages_renders_as_code_in_both(
    make_harness: HarnessFactory,
) -> None:
    code = "\n".join(f"value_{n} = compute({n})  # step {n}" for n in range(160))
    reply = "Here is the script:\n\n```python\n" + code + "\n```\n\nRun it with Python 3."
    async with make_harness() as harness:
        harness.rig.tgi.enqueue(Script(reply=reply))
        await harness.say("Write a long script", place=Place.GROUP)
        await harness.settle()
        shown = harness.api.visible(FORUM_CHAT_ID)
        assert len(shown) >= 2
        with_code = [m for m in shown if any(e["type"] == "pre" for e in m.entities)]
        assert len(with_code) >= 2
        assert all(
            e.get("language") == "python"
            for m in with_code
            for e in m.entities
            if e["type"] == "pre"
        )
        assert "```" not in "".join(m.text for m in shown)
        lines = [line for m in shown for line in m.text.splitlines()]
        assert [line for line in lines if line.startswith("value_")] == code.splitlines()


async def test_not_modified_answers_and_refused_formatting_do_not_lose_the_reply(
    make_harness: HarnessFactory,
) -> None:
    reply = "A **bold** claim, then `code`, then more words to stream " + "on and on " * 10
    async with make_harness() as harness:
        harness.rig.tgi.enqueue(Script(reply=reply, token_delay=0.001))
        harness.api.fail("editMessageText", ApiError.not_modified())
        harness.api.fail("sendMessage", ApiError.cant_parse_entities())
        await harness.say("Format it", place=Place.GROUP)
        await harness.settle()
        (shown,) = harness.api.visible(FORUM_CHAT_ID)
        assert (
            shown.text
            == "A bold claim, then code, then more words to stream " + ("on and on " * 10).rstrip()
        )
        assert {e["type"] for e in shown.entities} == {"bold", "code"}


@pytest.mark.parametrize(
    ("case", "answered"),
    [
        ("anonymous_admin", True),
        ("forum_topic", True),
        ("group_reply_to_bot", True),
        ("edited_message", False),
        ("channel_post", False),
        ("other_bot", False),
        ("group_command_for_other_bot", False),
    ],
)
async def test_recorded_updates_are_answered_only_when_they_should_be(
    make_harness: HarnessFactory, case: str, answered: bool
) -> None:
    recorded = json.loads((DATA / f"{case}.json").read_text(encoding="utf-8"))
    update = recorded["update"]
    async with make_harness() as harness:
        harness.rig.tgi.enqueue(Script(reply="An answer."))
        await harness.start()
        harness.api.feed(update)
        await harness.settle()
        sent = harness.api.calls_to("sendMessage")
        assert len(sent) == (1 if answered else 0)
        if answered:
            message = update["message"]
            assert int(sent[0].params["chat_id"]) == message["chat"]["id"]
            assert sent[0].params.get("message_thread_id") == message.get("message_thread_id")
            assert sent[0].params["reply_parameters"]["message_id"] == message["message_id"]
