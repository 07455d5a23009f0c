"""A Discord ingress that cannot queue a message tells the sender to send it again.

The gateway never delivers an event again, so nothing the platform does can recover a
message the ingress could not queue: the sender is told, in their language, in the same
place the answer would have gone. The real ingress role (`bots.roles.running_ingress`)
against the fake REST API and gateway, and a redis-server of the test's own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pydantic import SecretStr

from bots.discord_bot import BOT
from bots.roles import running_ingress
from bots.settings import Settings
from core.notices import notice
from tests.bots import scale_rig
from tests.fakes.discord_api import FakeDiscordAPI
from tests.fakes.discord_gateway import FakeDiscordGateway
from tests.fakes.discord_model import DiscordWorld
from tests.redis_process import RedisProcess

NAMESPACE = "discord-ingress"


@asynccontextmanager
async def ingress(
    world: DiscordWorld, redis: RedisProcess
) -> AsyncIterator[tuple[FakeDiscordAPI, FakeDiscordGateway]]:
    async with FakeDiscordAPI(world) as api, FakeDiscordGateway(world) as gateway:
        values: dict[str, Any] = {
            "redis_url": SecretStr(redis.url),
            "redis_namespace": NAMESPACE,
            "discord_token": SecretStr(world.token),
            "discord_api_url": api.api_url,
            "discord_gateway_url": gateway.url,
            "ingress_retry_seconds": 0.2,
        }
        settings = Settings(**values)
        async with running_ingress(BOT, settings):
            yield api, gateway


async def queued_texts(redis: RedisProcess, *, at_least: int = 0) -> list[str]:
    return await scale_rig.queued_texts(redis.url, NAMESPACE, at_least=at_least)


async def test_a_message_that_cannot_be_queued_is_answered_with_a_notice_to_send_it_again() -> None:
    world = DiscordWorld()
    async with RedisProcess() as redis, ingress(world, redis) as (api, gateway):
        dm = world.dm_channel_id
        await redis.stop()
        await gateway.dispatch("MESSAGE_CREATE", world.user_message(dm, "Are you there?"))
        await api.wait_until(lambda: bool(api.visible(dm)))
        await redis.start()
        await gateway.dispatch("MESSAGE_CREATE", world.user_message(dm, "Now?"))
        (told,) = api.visible(dm)
        assert notice("not_taken", "en") in told.content  # in italics, as every notice
        assert await queued_texts(redis, at_least=1) == ["Now?"]


async def test_a_slash_command_that_cannot_be_queued_is_answered_with_the_notice_in_its_locale() -> (
    None
):
    world = DiscordWorld()
    async with RedisProcess() as redis, ingress(world, redis) as (api, gateway):
        await redis.stop()
        command = scale_rig.ask_interaction(
            api, world.channel_id, "Qu'est-ce qu'un flux ?", locale="fr"
        )
        await gateway.dispatch("INTERACTION_CREATE", command)
        expected = notice("not_taken", "fr")
        await api.wait_until(lambda: any(expected in m.content for m in api.messages))
        await redis.start()
        # The deferred "thinking…" response itself became the notice.
        (answer,) = [m for m in api.messages if m.interaction_token == command["token"]]
        assert expected in answer.content
        assert await queued_texts(redis) == []
