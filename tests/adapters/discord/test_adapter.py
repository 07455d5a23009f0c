"""Discord-specific behaviour: splitting, mentions, 429s, duplicates, intents, threads, URLs."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord.options import DiscordOptions
from adapters.mentions import WORD_JOINER
from tests.adapters.contract import Place, squeezed
from tests.adapters.discord.harness import DiscordHarness, discord_harness
from tests.fakes.discord_model import MESSAGE_CONTENT_INTENT
from tests.fakes.discord_rest import ApiError
from tests.fakes.tgi import Script

_FENCE = re.compile(r"^ {0,3}```", re.MULTILINE)
_CHANGES = ("create_message", "edit_message")
GUILDS, GUILD_MESSAGES, DIRECT_MESSAGES = 1 << 0, 1 << 9, 1 << 12


@pytest.fixture
async def harness(redis_url: str, redis_namespace: str) -> AsyncIterator[DiscordHarness]:
    async with discord_harness(redis_url, redis_namespace) as discord:
        yield discord


def answer_with_code(length: int) -> str:
    """Prose, then a Python block that straddles the 2,000-character boundary, then prose."""
    prose = " ".join(f"Sentence {n} explains the sharded server setup." for n in range(30))
    code_lines = [
        f"    replica_{n} = start_shard(rank={n}, world_size=8)  # shard {n}" for n in range(40)
    ]
    code = "```python\ndef launch():\n" + "\n".join(code_lines) + "\n```"
    text = f"{prose}\n\n{code}\n\n"
    words = iter(f"word{n}" for n in range(10_000))
    while len(text) < length:
        text += next(words) + (" " if len(text) % 90 else "\n")
    return text[:length].rstrip() + "."


async def test_a_long_answer_with_code_arrives_as_three_whole_messages(
    harness: DiscordHarness,
) -> None:
    reply = answer_with_code(4_500)
    assert len(reply) >= 4_500
    start = reply.index("```python")
    assert start < 2_000 < reply.index("```", start + 3)  # the block crosses the boundary
    harness.rig.tgi.enqueue(Script(reply=reply))
    await harness.say("Show me the launcher", place=Place.GROUP)
    await harness.settle()
    shown = [m.text for m in harness.shown(Place.GROUP)]
    assert len(shown) == 3
    assert all(len(text) <= 2_000 for text in shown)
    assert squeezed("".join(shown).replace("```python", "").replace("```", "")) == squeezed(
        reply.replace("```python", "").replace("```", "")
    )
    for text in shown:
        assert len(_FENCE.findall(text)) % 2 == 0, text  # every fence opened is closed
    continuing = next(text for text in shown[1:] if "replica_" in text)
    assert continuing.startswith("```python\n")  # the open block reopened with its language


async def test_everyone_announcement_gets_no_answer(harness: DiscordHarness) -> None:
    await harness.send(
        harness.world.user_message(harness.world.channel_id, "release notes are out", everyone=True)
    )
    await harness.settle()
    assert harness.shown(Place.GROUP) == []
    assert harness.rig.tgi.generation_requests() == []


async def test_model_output_with_everyone_pings_nobody(harness: DiscordHarness) -> None:
    reply = "Sure! @everyone and @here, <@1300000000000000001> and <@&1100000000000000099>: done."
    harness.rig.tgi.enqueue(Script(reply=reply, token_delay=0.001))
    await harness.say("Announce it to everyone", place=Place.GROUP)
    await harness.settle()
    calls = [call for call in harness.api.calls if call.route in _CHANGES]
    assert calls
    for call in calls:
        assert call.pings == frozenset()
        allowed = call.params["allowed_mentions"]
        assert allowed["parse"] == [] and not allowed.get("replied_user", False)
    (shown,) = harness.shown(Place.GROUP)
    assert f"@{WORD_JOINER}everyone" in shown.text and f"<{WORD_JOINER}@&" in shown.text
    assert shown.text.replace(WORD_JOINER, "") == reply
    # The answer still replies to the question, silently.
    assert shown.replies_to is not None


async def test_a_429_while_streaming_delays_but_drops_no_text(harness: DiscordHarness) -> None:
    reply = answer_with_code(4_500)
    release = asyncio.Event()
    # No token delay: snapshots merge while the channel waits, as they do at real speeds.
    harness.rig.tgi.enqueue(Script(reply=reply, hang=release, hang_after=40))
    await harness.say("Stream a long answer", place=Place.GROUP)
    await harness.wait_for_text(Place.GROUP)
    channel = harness.world.channel_id
    # Discord answers the next message change with a 429 (retry_after, bucket headers).
    harness.api.fail(
        "edit_message",
        ApiError.rate_limited(5.5),
        when=lambda params: str(params["_channel"]) == channel,
    )
    harness.api.fail(
        "create_message",
        ApiError.rate_limited(3.0),
        when=lambda params: str(params["_channel"]) == channel,
    )
    release.set()
    await harness.settle()
    shown = [m.text for m in harness.shown(Place.GROUP)]
    assert len(shown) == 3
    assert squeezed("".join(shown).replace("```python", "").replace("```", "")) == squeezed(
        reply.replace("```python", "").replace("```", "")
    )
    changes = harness.changes(Place.GROUP)
    refused = [change for change in changes if change.refused]
    assert len(refused) == 2  # one answer each: discord.py did not retry on its own
    for flood, wait in zip(refused, (5.5, 3.0), strict=True):
        later = [change for change in changes if change.at > flood.at]
        assert later and all(change.at >= flood.at + wait for change in later)


async def test_a_duplicate_message_create_gets_one_answer(harness: DiscordHarness) -> None:
    harness.rig.tgi.enqueue(Script(reply="Only once."), Script(reply="Twice?!"))
    payload = harness.world.user_message(harness.world.channel_id, "hello", mention_bot=True)
    await harness.send(payload)
    await harness.gateway.dispatch("MESSAGE_CREATE", payload)  # a replayed event
    await harness.settle()
    assert [m.text for m in harness.shown(Place.GROUP)] == ["Only once."]
    assert len(harness.rig.tgi.generation_requests()) == 1


async def test_role_mention_reply_to_the_bot_and_thread_are_answered(
    harness: DiscordHarness,
) -> None:
    world = harness.world
    harness.rig.tgi.enqueue(
        Script(reply="To the role."), Script(reply="To the reply."), Script(reply="In thread.")
    )
    await harness.send(world.user_message(world.channel_id, "hi team", mention_role=True))
    await harness.settle()
    (first,) = harness.shown(Place.GROUP)
    bot_message = harness.api.message_payload(harness.api.message(first.message_id))
    await harness.send(world.user_message(world.channel_id, "and more?", reply_to=bot_message))
    await harness.send(world.user_message(world.thread_id, "thread q", mention_bot=True))
    await harness.settle()
    assert [m.text for m in harness.shown(Place.GROUP)] == ["To the role.", "To the reply."]
    assert [m.text for m in harness.shown(Place.THREAD)] == ["In thread."]
    prompts = [request.body["inputs"] for request in harness.rig.tgi.generation_requests()]
    assert "hi team" in prompts[0] and "<@&" not in prompts[0]


async def test_other_bots_and_unaddressed_messages_are_ignored(harness: DiscordHarness) -> None:
    world = harness.world
    from_bot = world.user_message(world.channel_id, "beep", mention_bot=True)
    from_bot["author"] = {**from_bot["author"], "id": "1600000000000000001", "bot": True}
    await harness.send(from_bot)
    await harness.send(world.user_message(world.channel_id, "lunch?"))
    await harness.settle()
    assert harness.shown(Place.GROUP) == []
    assert harness.rig.tgi.generation_requests() == []


async def test_smallest_intents_plain_json_gateway_and_only_the_configured_urls(
    harness: DiscordHarness,
) -> None:
    harness.rig.tgi.enqueue(Script(reply="Hi."))
    await harness.say("hello", place=Place.PRIVATE)
    await harness.settle()
    (identify,) = harness.gateway.identifies
    assert identify["intents"] == GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES
    assert not identify["intents"] & MESSAGE_CONTENT_INTENT
    # The configured gateway, asked what Discord's would be (the fake answers in text frames).
    (query,) = harness.gateway.queries
    assert (query["v"], query["encoding"]) == ("10", "json")
    assert query["compress"].endswith("-stream")
    # Every REST call, login included, reached the fake through the configured base URL.
    routes = [call.route for call in harness.api.calls]
    assert routes[:3] == ["get_me", "application_info", "bulk_commands"]
    assert [m.text for m in harness.shown(Place.PRIVATE)] == ["Hi."]
    assert harness.shown(Place.PRIVATE)[0].replies_to is None  # a DM needs no reply reference
    # Nothing global was changed to get there.
    assert Route.BASE == "https://discord.com/api/v10"
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"


async def test_a_listened_channel_is_answered_without_mention_only_with_the_intent(
    redis_url: str, redis_namespace: str
) -> None:
    options = DiscordOptions(
        message_content=True,
        listen_channels=frozenset({"1100000000000000010"}),
        guild_ready_timeout=0.05,
    )
    async with discord_harness(redis_url, redis_namespace, options=options) as harness:
        harness.rig.tgi.enqueue(Script(reply="Every message here."))
        await harness.say("what does top_p do?", place=Place.GROUP, addressed=False)
        await harness.send(
            harness.world.user_message(harness.world.channel_id, "meeting", everyone=True)
        )
        await harness.settle()
        assert harness.gateway.identifies[0]["intents"] & MESSAGE_CONTENT_INTENT
        assert [m.text for m in harness.shown(Place.GROUP)] == ["Every message here."]
        assert len(harness.rig.tgi.generation_requests()) == 1


async def test_a_mention_in_a_channel_can_open_a_thread_for_the_answer(
    redis_url: str, redis_namespace: str
) -> None:
    options = DiscordOptions(thread_per_mention=True, guild_ready_timeout=0.05)
    async with discord_harness(redis_url, redis_namespace, options=options) as harness:
        harness.rig.tgi.enqueue(Script(reply="Answered in a thread."))
        said = await harness.say("How do shards talk?", place=Place.GROUP)
        await harness.settle()
        (opened,) = harness.api.calls_to("start_thread")
        assert opened.params["_message"] == said.message_id
        assert opened.params["name"] == "How do shards talk?"
        assert harness.shown(Place.GROUP) == []
        thread_messages = harness.api.visible(said.message_id)  # the thread's id
        assert [m.content for m in thread_messages] == ["Answered in a thread."]
        assert thread_messages[0].reference is None
        (turn,) = await harness.rig.store.history(
            harness.conversation(Place.GROUP).__class__(
                "discord", harness.world.guild_id, harness.world.channel_id, said.message_id
            )
        )
        assert turn.reply_text == "Answered in a thread."


async def test_a_reply_whose_thread_an_earlier_attempt_opened_goes_on_in_that_thread(
    redis_url: str, redis_namespace: str
) -> None:
    options = DiscordOptions(thread_per_mention=True, guild_ready_timeout=0.05)
    async with discord_harness(redis_url, redis_namespace, options=options) as harness:
        harness.rig.tgi.enqueue(Script(reply="Answered in the same thread."))
        await harness.start()
        world = harness.world
        asked = world.user_message(world.channel_id, "How do shards talk?", mention_bot=True)
        # A queue worker opened the thread, then died; the worker taking over opens it again.
        world.add_thread(world.channel_id, asked["id"], "How do shards talk?")
        await harness.send(asked)
        await harness.settle()
        (refused,) = harness.api.calls_to("start_thread")
        assert refused.status == 400
        assert harness.shown(Place.GROUP) == []
        assert [m.content for m in harness.api.visible(asked["id"])] == [
            "Answered in the same thread."
        ]


async def test_without_permission_for_a_thread_the_answer_stays_in_the_channel(
    redis_url: str, redis_namespace: str
) -> None:
    options = DiscordOptions(thread_per_mention=True, guild_ready_timeout=0.05)
    async with discord_harness(redis_url, redis_namespace, options=options) as harness:
        harness.rig.tgi.enqueue(Script(reply="Answered here instead."))
        harness.api.fail("start_thread", ApiError.missing_permissions())
        said = await harness.say("How do shards talk?", place=Place.GROUP)
        await harness.settle()
        (shown,) = harness.shown(Place.GROUP)
        assert (shown.text, shown.replies_to) == ("Answered here instead.", said.message_id)


async def test_a_thread_the_bot_has_not_seen_is_looked_up_once(harness: DiscordHarness) -> None:
    world = harness.world
    harness.rig.tgi.enqueue(Script(reply="Found the thread."))
    await harness.start()
    unseen = world.add_thread(world.channel_id, "1100000000000000888", "Later thread")
    unseen["owner_id"] = world.user["id"]
    await harness.send(world.user_message(unseen["id"], "hello there", mention_bot=True))
    await harness.settle()
    assert len(harness.api.calls_to("get_channel")) == 1
    assert [m.content for m in harness.api.visible(unseen["id"])] == ["Found the thread."]
    conversation = harness.conversation(Place.THREAD).__class__(
        "discord", world.guild_id, world.channel_id, unseen["id"]
    )
    assert len(await harness.rig.store.history(conversation)) == 1
