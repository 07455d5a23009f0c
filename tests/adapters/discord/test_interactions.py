"""Slash commands and feedback buttons through real discord.py against the fake Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.notices import notice
from tests.adapters.contract import Place, long_prose, squeezed
from tests.adapters.discord.harness import DiscordHarness, discord_harness
from tests.fakes.tgi import Script

DEFERRED_WITH_THINKING = 5


@pytest.fixture
async def harness(redis_url: str, redis_namespace: str) -> AsyncIterator[DiscordHarness]:
    async with discord_harness(redis_url, redis_namespace) as discord:
        yield discord


def routes_after(harness: DiscordHarness, interaction_id: str) -> list[str]:
    """REST routes called after the interaction's deferral, the deferral first."""
    calls = harness.api.calls
    first = next(
        index
        for index, call in enumerate(calls)
        if call.route == "interaction_callback" and call.params["_interaction"] == interaction_id
    )
    return [call.route for call in calls[first:]]


async def test_commands_are_registered_with_translated_descriptions(
    harness: DiscordHarness,
) -> None:
    await harness.start()
    names = {command["name"]: command for command in harness.api.commands}
    assert set(names) == {"ask", "help", "reset", "forget", "lang"}
    ask = names["ask"]
    assert ask["options"][0]["name"] == "question" and ask["options"][0]["required"]
    assert ask["description_localizations"]["fr"] == "Poser une question à BLOOMChat"
    assert names["lang"]["options"][0]["name"] == "language"
    reset = names["reset"]["description_localizations"]
    assert reset["zh-TW"] == notice("command_reset", "zh-hant")
    assert reset["zh-CN"] == notice("command_reset", "zh")
    assert "en-US" not in reset  # English is the default description


async def test_ask_is_deferred_then_answered_in_the_users_locale(
    harness: DiscordHarness,
) -> None:
    harness.rig.tgi.enqueue(Script(reply="Quatro."))
    payload = await harness.command(Place.GROUP, "ask", "2+2?", locale="pt-BR")
    await harness.settle()
    (callback,) = [c for c in harness.api.calls_to("interaction_callback")]
    assert callback.params["type"] == DEFERRED_WITH_THINKING
    routes = routes_after(harness, payload["id"])
    # Deferred before anything else, then the answer edits the "thinking…" response.
    assert routes[0] == "interaction_callback"
    assert "edit_original" in routes
    (answer,) = harness.shown(Place.GROUP)
    assert answer.text == "Quatro."
    message = harness.api.message(answer.message_id)
    assert message.components, "a model answer carries feedback buttons"
    (turn,) = await harness.rig.store.history(harness.conversation(Place.GROUP))
    assert turn.user_text == "2+2?" and turn.language == "pt"


async def test_a_long_ask_answer_continues_in_follow_ups(harness: DiscordHarness) -> None:
    reply = long_prose(4_500)
    harness.rig.tgi.enqueue(Script(reply=reply))
    await harness.command(Place.GROUP, "ask", "Tell me everything")
    await harness.settle()
    shown = harness.shown(Place.GROUP)
    assert len(shown) == 3
    assert squeezed("".join(m.text for m in shown)) == squeezed(reply)
    assert len(harness.api.calls_to("followup")) == 2
    assert all(c.pings == frozenset() for c in harness.api.calls if c.route.startswith("edit"))


async def test_lang_and_reset_are_answered_from_the_catalogue(harness: DiscordHarness) -> None:
    await harness.command(Place.THREAD, "lang", "fr")
    await harness.settle()
    assert await harness.rig.store.language(harness.conversation(Place.THREAD)) == "fr"
    await harness.command(Place.THREAD, "reset")
    await harness.settle()
    texts = [m.text for m in harness.shown(Place.THREAD)]
    assert len(texts) == 2 and all(texts)
    assert harness.rig.tgi.generation_requests() == []
    # Command answers are the bot's own words: no feedback buttons.
    assert all(
        not harness.api.message(m.message_id).components for m in harness.shown(Place.THREAD)
    )


async def test_feedback_buttons_keep_working_after_a_restart(harness: DiscordHarness) -> None:
    harness.rig.tgi.enqueue(Script(reply="Rate me later."))
    await harness.say("Say something", place=Place.GROUP)
    await harness.settle()  # the adapter stops: the next press reaches a new process
    (reply,) = harness.shown(Place.GROUP)
    buttons = harness.api.message(reply.message_id).components[0]["components"]
    assert [b["emoji"]["name"] for b in buttons] == ["👍", "👎"]
    await harness.rate(Place.GROUP, reply, 1)
    await harness.settle()
    conversation = harness.conversation(Place.GROUP)
    (turn,) = await harness.rig.store.history(conversation)
    assert await harness.rig.store.feedback(conversation, turn.reply_id) == {harness.user_id: 1}
    thanks = [m for m in harness.api.messages if m.ephemeral]
    assert [m.content for m in thanks] == ["Thank you for your feedback."]
