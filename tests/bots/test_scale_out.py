"""Scale-out with real worker processes: every message answered once, in order, through crashes.

An ingress (in the test's loop) receives the platform's events from its fake (Telegram long
polling, Slack Socket Mode, the Discord gateway) and queues each message in Redis Streams;
worker OS processes (`bloombridge run <platform> --role worker`) answer through the fake's
Web API with the fake TGI as the model. Telegram carries the large counts; Slack and Discord
repeat each guarantee at a smaller scale. See tests/bots/scale_rig.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from core.queue.streams import GROUP
from core.store.keys import StoreKeys
from tests.bots.scale_rig import (
    DISCORD_DMS,
    SCENARIO_LIMIT,
    DiscordRig,
    ScaleRig,
    SlackRig,
    TelegramRig,
    asked,
    discord_scale_rig,
    echo,
    scale_rig,
    slack_scale_rig,
    stop_workers,
)
from tests.fakes.discord_rest import ChannelMessage
from tests.fakes.tgi import GenerateCall, Script, TgiFailure
from tests.redis_process import RedisProcess

CHATS = 50
PER_CHAT = 10


def texts(rig: TelegramRig, chat_id: int) -> list[str]:
    return [message.text for message in rig.replies(chat_id)]


async def test_500_messages_in_50_chats_are_answered_once_in_order_by_three_workers(
    redis_url: str, redis_namespace: str
) -> None:
    async with scale_rig(redis_url, redis_namespace) as rig:
        chats = [9000 + n for n in range(CHATS)]
        await rig.start_workers(3)
        # Fed in rounds: more than eight messages waiting in one chat would be a flood.
        for turn in range(PER_CHAT):
            rig.api.feed(*(rig.message(chat, f"c{chat} m{turn}") for chat in chats))
            await rig.until_queued(CHATS * (turn + 1))
        await rig.api.wait_until(
            lambda: all(rig.finished(chat, PER_CHAT) for chat in chats), within=SCENARIO_LIMIT
        )
        for chat in chats:
            assert texts(rig, chat) == [f"Echo c{chat} m{turn}." for turn in range(PER_CHAT)]
        assert len(rig.api.calls_to("sendMessage")) == CHATS * PER_CHAT
        async with Redis.from_url(redis_url, decode_responses=True) as client:
            owners = set(await client.zrange(StoreKeys(redis_namespace).queue_workers(), 0, -1))
        assert len(owners) == 3  # all three took part in the live set


async def test_a_worker_killed_mid_reply_leaves_it_to_another_that_edits_the_partial_reply(
    redis_url: str, redis_namespace: str
) -> None:
    respond = stalls_first_slow_question()
    group = -1001234
    async with scale_rig(redis_url, redis_namespace, responder=respond) as rig:
        await rig.start_workers(2)
        rig.api.feed(rig.message(group, "slow question"))
        # The partial reply is posted (a group shows no drafts) before the model stalls.
        await rig.api.wait_until(lambda: len(rig.replies(group)) == 1, within=SCENARIO_LIMIT)
        owner = (await rig.until_recorded()).owner
        killed = rig.kill(owner)
        await killed.wait()
        await rig.api.wait_until(lambda: rig.finished(group, 1), within=SCENARIO_LIMIT)
        (reply,) = rig.replies(group)
        assert reply.text == "Echo slow question."
        assert reply.edits >= 1  # the partial message was edited into the answer
        assert len(rig.api.calls_to("sendMessage")) == 1  # never posted a second time
        [record] = await rig.records()
        assert record.state == "answered"
        assert record.owner != owner


async def test_redis_restarted_mid_run_loses_no_message(
    tmp_path: Path, redis_namespace: str
) -> None:
    chats = [7100 + n for n in range(10)]
    async with (
        RedisProcess(append_only_dir=tmp_path) as redis,
        scale_rig(redis.url, redis_namespace) as rig,
    ):
        await rig.start_workers(2)
        for turn in range(5):
            rig.api.feed(*(rig.message(chat, f"c{chat} m{turn}") for chat in chats))
        await rig.api.wait_until(
            lambda: len(rig.api.calls_to("sendMessage")) >= 10, within=SCENARIO_LIMIT
        )
        await redis.stop()
        await redis.start()  # the append-only file brings back streams, groups and pending entries
        for turn in range(5, 10):
            rig.api.feed(*(rig.message(chat, f"c{chat} m{turn}") for chat in chats))
        await rig.api.wait_until(
            lambda: all(rig.finished(chat, 10) for chat in chats), within=SCENARIO_LIMIT
        )
        for chat in chats:
            assert texts(rig, chat) == [f"Echo c{chat} m{turn}." for turn in range(10)]


async def test_the_same_event_ingested_twice_gets_one_reply(
    redis_url: str, redis_namespace: str
) -> None:
    chat = 6200
    async with scale_rig(redis_url, redis_namespace) as rig:
        await rig.start_workers(1)
        update = rig.message(chat, "only once")
        rig.api.feed(update)
        rig.api.feed(update)  # Telegram delivers the update again
        rig.api.feed(rig.message(chat, "and then this"))
        await rig.api.wait_until(lambda: rig.finished(chat, 2), within=SCENARIO_LIMIT)
        assert texts(rig, chat) == ["Echo only once.", "Echo and then this."]
        await stop_workers(rig.workers)  # a graceful stop: what was answered is acknowledged
        async with Redis.from_url(redis_url, decode_responses=True) as client:
            keys = StoreKeys(redis_namespace)
            entries = 0
            for partition in range(rig.settings.queue_partitions):
                entries += await client.xlen(keys.queue(partition))
                groups = await client.xinfo_groups(keys.queue(partition))
                assert all(g["pending"] == 0 for g in groups if g["name"] == GROUP)
        assert entries <= 2  # one entry per event (acknowledged ones may be trimmed)


# ----- Slack and Discord: the same guarantees through their Web APIs -------------------------

SPLIT_CONVERSATIONS = 6
SPLIT_PER_CONVERSATION = 4
SplitRig = Callable[[str, str], AbstractAsyncContextManager[SlackRig | DiscordRig]]
SPLIT_RIGS: dict[str, SplitRig] = {"slack": slack_scale_rig, "discord": discord_scale_rig}


@pytest.mark.parametrize("platform", SPLIT_RIGS)
async def test_messages_are_answered_once_in_order_by_two_workers(
    platform: str, redis_url: str, redis_namespace: str
) -> None:
    async with SPLIT_RIGS[platform](redis_url, redis_namespace) as rig:
        channels = rig.dms(SPLIT_CONVERSATIONS)
        await rig.start_workers(2)
        for turn in range(SPLIT_PER_CONVERSATION):
            await rig.feed(*(rig.dm(channel, f"{channel} m{turn}") for channel in channels))
            await rig.until_queued(len(channels) * (turn + 1))
        await rig.api.wait_until(
            lambda: all(rig.finished(c, SPLIT_PER_CONVERSATION) for c in channels),
            within=SCENARIO_LIMIT,
        )
        for channel in channels:
            assert rig.texts(channel) == [
                f"Echo {channel} m{turn}." for turn in range(SPLIT_PER_CONVERSATION)
            ]
        assert rig.posted() == len(channels) * SPLIT_PER_CONVERSATION


def stalls_first_slow_question() -> Callable[[GenerateCall], Script]:
    """A responder whose first answer to "slow question" stalls after a few tokens."""
    hang = asyncio.Event()  # never set
    first_attempt = True

    def respond(call: GenerateCall) -> Script:
        nonlocal first_attempt
        if "slow question" in asked(call) and first_attempt:
            first_attempt = False
            return Script(reply="Part one of the answer, then more.", hang=hang, hang_after=4)
        return echo(call)

    return respond


async def killed_mid_reply(rig: SlackRig | DiscordRig, channel: str, event: dict[str, Any]) -> str:
    """Two workers; the one answering `event` is SIGKILLed once its reply shows; its id.

    Returns when the reply is finished (by the other worker).
    """
    await rig.start_workers(2)
    await rig.feed(event)
    owner = (await rig.until_recorded()).owner
    await rig.kill(owner).wait()
    await rig.api.wait_until(lambda: rig.finished(channel, 1), within=SCENARIO_LIMIT)
    [record] = await rig.records()
    assert record.state == "answered"
    assert record.owner != owner
    assert rig.texts(channel) == ["Echo slow question."]
    return owner


async def test_a_slack_worker_killed_mid_stream_leaves_it_to_another_that_updates_it(
    redis_url: str, redis_namespace: str
) -> None:
    channel = "C0KILLED1"  # a mention in a channel: the reply streams into its thread
    async with slack_scale_rig(
        redis_url, redis_namespace, responder=stalls_first_slow_question()
    ) as rig:
        await killed_mid_reply(rig, channel, rig.mention(channel, "slow question"))
        (reply,) = rig.replies(channel)
        assert reply.streamed and not reply.streaming
        # The stream the dead worker left open was stopped, then updated: one message in all.
        assert len(rig.api.calls_to("chat.startStream")) == 1
        assert rig.posted() == 0
        assert rig.api.calls_to("chat.update")


async def test_a_discord_worker_killed_mid_reply_leaves_it_to_another_that_edits_it(
    redis_url: str, redis_namespace: str
) -> None:
    channel = DISCORD_DMS[0]
    async with discord_scale_rig(
        redis_url, redis_namespace, responder=stalls_first_slow_question()
    ) as rig:
        await killed_mid_reply(rig, channel, rig.dm(channel, "slow question"))
        (reply,) = rig.replies(channel)
        assert reply.edits >= 1  # the partial message was edited into the answer
        assert rig.posted() == 1


@pytest.mark.parametrize("platform", SPLIT_RIGS)
async def test_the_same_event_ingested_twice_on_slack_or_discord_gets_one_reply(
    platform: str, redis_url: str, redis_namespace: str
) -> None:
    async with SPLIT_RIGS[platform](redis_url, redis_namespace) as rig:
        (channel,) = rig.dms(1)
        await rig.start_workers(1)
        event = rig.dm(channel, "only once")
        # Slack retries an event it thinks was lost; a resumed Discord session replays it.
        await rig.feed(event, event)
        await rig.feed(rig.dm(channel, "and then this"))
        await rig.api.wait_until(lambda: rig.finished(channel, 2), within=SCENARIO_LIMIT)
        assert rig.texts(channel) == ["Echo only once.", "Echo and then this."]
        assert await queued_entries(rig) == 2


async def queued_entries(rig: ScaleRig) -> int:
    """Entries ever appended to the rig's streams."""
    keys = StoreKeys(rig.settings.redis_namespace)
    async with Redis.from_url(rig.redis_url, decode_responses=True) as client:
        total = 0
        for partition in range(rig.settings.queue_partitions):
            info = await client.xinfo_stream(keys.queue(partition))
            total += int(info["entries-added"])
    return total


async def test_a_workers_log_lines_carry_the_ids_of_the_message_it_answers(
    redis_url: str, redis_namespace: str
) -> None:
    chat = 6300
    async with scale_rig(redis_url, redis_namespace) as rig:
        rig.workers.append(await rig.start_worker(log_format="json"))
        rig.api.feed(rig.message(chat, "Tell me about rivers"))
        await rig.api.wait_until(lambda: rig.finished(chat, 1), within=SCENARIO_LIMIT)
        await stop_workers(rig.workers)
        (log,) = rig.worker_logs
        lines = (await log.read()).decode()
    records = [json.loads(line) for line in lines.splitlines() if line.startswith("{")]
    # Lines written while the message was answered (the model asked, the reply sent) carry
    # its ids and its stream entry, never its text.
    answering = [record for record in records if record.get("message_id") == "1"]
    assert answering
    assert {record["conversation"] for record in answering} == {f"telegram:-:{chat}:-"}
    assert all(record["platform"] == "telegram" for record in answering)
    assert all(record["queue_entry"] for record in answering)
    assert not any("rivers" in json.dumps(record) for record in records)


async def test_a_message_waiting_for_a_busy_model_shows_its_place_in_line_then_the_reply(
    redis_url: str, redis_namespace: str
) -> None:
    chat = 6400
    busy = True  # every replica answers 429 until the user has seen the notice

    def respond(call: GenerateCall) -> Script:
        if busy:
            return Script(failure=TgiFailure.overloaded(), failure_as_status=True)
        return echo(call)

    async with scale_rig(redis_url, redis_namespace, responder=respond) as rig:
        await rig.start_workers(1)
        rig.api.feed(rig.message(chat, "Is anyone there?"))
        await rig.api.wait_until(lambda: bool(rig.replies(chat)), within=SCENARIO_LIMIT)
        (queued,) = rig.replies(chat)
        # The catalogue's notice (plain: Telegram shows notices as written).
        assert "Queued: you are number 1 in line." in queued.text
        busy = False
        await rig.api.wait_until(lambda: rig.finished(chat, 1), within=SCENARIO_LIMIT)
        (reply,) = rig.replies(chat)
        assert reply.message_id == queued.message_id  # the notice became the reply
        assert reply.text == "Echo Is anyone there?."
        assert len(rig.api.calls_to("sendMessage")) == 1  # shown once, then edited


async def test_a_discord_slash_command_is_answered_by_a_worker_through_its_webhook(
    redis_url: str, redis_namespace: str
) -> None:
    async with discord_scale_rig(redis_url, redis_namespace) as rig:
        await rig.start_workers(1)
        command = rig.ask("what is a stream?")
        await rig.gateway.dispatch("INTERACTION_CREATE", command)

        def answered() -> list[ChannelMessage]:
            return [m for m in rig.api.messages if m.interaction_token == command["token"]]

        await rig.api.wait_until(
            lambda: any(m.components for m in answered()), within=SCENARIO_LIMIT
        )
        # The ingress deferred it ("thinking…"); the worker edited that response into the answer.
        (answer,) = answered()
        assert answer.content == "Echo what is a stream?."
        assert rig.api.calls_to("edit_original")
        assert rig.posted() == 0  # nothing posted in the channel
