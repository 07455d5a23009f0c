"""Scale-out with real worker processes: every message answered once, in order, through crashes.

An ingress (in the test's loop) polls the fake Bot API and queues each message in Redis
Streams; worker OS processes (`bloombridge run telegram --role worker`) answer through the
fake Bot API with the fake TGI as the model. See tests/bots/scale_rig.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from redis.asyncio import Redis

from core.queue.streams import GROUP
from core.store.keys import StoreKeys
from tests.bots.scale_rig import SCENARIO_LIMIT, ScaleRig, asked, echo, scale_rig, stop_workers
from tests.fakes.tgi import GenerateCall, Script
from tests.redis_process import RedisProcess

CHATS = 50
PER_CHAT = 10


def texts(rig: ScaleRig, chat_id: int) -> list[str]:
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
    hang = asyncio.Event()  # never set: the first attempt stalls after a few tokens
    first_attempt = True

    def respond(call: GenerateCall) -> Script:
        nonlocal first_attempt
        if "slow question" in asked(call) and first_attempt:
            first_attempt = False
            return Script(reply="Part one of the answer, then more.", hang=hang, hang_after=4)
        return echo(call)

    group = -1001234
    async with scale_rig(redis_url, redis_namespace, responder=respond) as rig:
        await rig.start_workers(2)
        rig.api.feed(rig.message(group, "slow question"))
        # The partial reply is posted (a group shows no drafts) before the model stalls.
        await rig.api.wait_until(lambda: len(rig.replies(group)) == 1, within=SCENARIO_LIMIT)
        await rig.until_recorded(group, 1)
        owner = await rig.owner_of(group, 1)
        assert owner is not None
        killed = rig.kill(owner)
        await killed.wait()
        await rig.api.wait_until(lambda: rig.finished(group, 1), within=SCENARIO_LIMIT)
        (reply,) = rig.replies(group)
        assert reply.text == "Echo slow question."
        assert reply.edits >= 1  # the partial message was edited into the answer
        assert len(rig.api.calls_to("sendMessage")) == 1  # never posted a second time
        finisher = await rig.owner_of(group, 1)
        assert finisher is not None and finisher != owner


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
