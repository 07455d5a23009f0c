"""A Slack ingress that cannot queue an event leaves it unacknowledged, so Slack delivers it again.

The real ingress role (`bots.roles.running_ingress`: Bolt with `process_before_response`)
against the fake Web API, a redis-server of the test's own stopped and started again, and
events as Slack sends them: signed HTTP posts, or Socket Mode envelopes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import aiohttp
from pydantic import SecretStr

from adapters.slack.adapter import SlackAdapter
from bots.roles import running_ingress
from bots.settings import Settings
from bots.slack_bot import BOT
from core.notices import notice
from tests.adapters.slack.harness import SIGNING_SECRET, signed_headers
from tests.bots import scale_rig
from tests.fakes.slack_api import FakeSlackAPI
from tests.redis_process import RedisProcess, free_port

NAMESPACE = "slack-ingress"


def event(ts: str, text: str = "Hello") -> dict[str, Any]:
    return {
        "type": "event_callback",
        "team_id": "T0BLOOM01",
        "event_id": f"Ev{ts.replace('.', '')}",
        "event": {
            "type": "message",
            "channel_type": "im",
            "channel": "D0INGRESS",
            "user": "U0ANA",
            "text": text,
            "ts": ts,
        },
        "authorizations": [{"user_id": "U0BLOOMBOT", "is_bot": True}],
    }


@asynccontextmanager
async def ingress(
    api: FakeSlackAPI, redis: RedisProcess, **values: Any
) -> AsyncIterator[SlackAdapter]:
    settings = Settings(
        **{
            "redis_url": SecretStr(redis.url),
            "redis_namespace": NAMESPACE,
            "slack_bot_token": SecretStr(api.bot_token),
            "slack_app_token": SecretStr(api.app_token),
            "slack_api_url": api.base_url,
            "ingress_retry_seconds": 30.0,  # Slack's three seconds cap it
            **values,
        }
    )
    async with running_ingress(BOT, settings) as adapter:
        assert isinstance(adapter, SlackAdapter)
        yield adapter


async def queued_texts(redis: RedisProcess) -> list[str]:
    return await scale_rig.queued_texts(redis.url, NAMESPACE)


@contextmanager
def refusals() -> Iterator[asyncio.Queue[logging.LogRecord]]:
    """Each event the Slack adapter refused, as its log record arrives."""
    seen: asyncio.Queue[logging.LogRecord] = asyncio.Queue()

    class Refusals(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "could not be queued" in record.getMessage():
                seen.put_nowait(record)

    handler = Refusals()
    target = logging.getLogger("adapters.slack.adapter")
    target.addHandler(handler)
    try:
        yield seen
    finally:
        target.removeHandler(handler)


async def post(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any], retry: int = 0
) -> int:
    content = json.dumps(body)
    headers = {"Content-Type": "application/json", **signed_headers(content)}
    if retry:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_error"}
    async with session.post(url, data=content.encode(), headers=headers) as response:
        await response.read()
        return response.status


async def test_over_http_an_event_that_cannot_be_queued_is_answered_500_and_taken_on_retry() -> (
    None
):
    async with (
        RedisProcess() as redis,
        FakeSlackAPI() as api,
        ingress(
            api,
            redis,
            slack_http_port=free_port(),
            slack_http_listen="127.0.0.1",
            slack_signing_secret=SecretStr(SIGNING_SECRET),
        ) as adapter,
        aiohttp.ClientSession() as session,
    ):
        assert adapter.answer_within == 3.0
        first = event("1790004000.000100", "Are you there?")
        await redis.stop()
        loop = asyncio.get_running_loop()
        started = loop.time()
        refused = await post(session, adapter.http_url, first)
        waited = loop.time() - started
        await redis.start()
        taken = await post(session, adapter.http_url, first, retry=1)
        repeated = await post(session, adapter.http_url, first, retry=2)
        assert await queued_texts(redis) == ["Are you there?"]
    assert refused == 500  # not acknowledged: Slack delivers the event again
    assert waited < 3.0  # the refusal is the answer Slack hears, not its own timeout
    assert (taken, repeated) == (200, 200)


async def test_in_socket_mode_an_event_that_cannot_be_queued_is_left_unacknowledged() -> None:
    async with (
        RedisProcess() as redis,
        FakeSlackAPI() as api,
        ingress(api, redis) as adapter,
    ):
        assert adapter.connected
        first = event("1790004100.000100", "Still there?")
        with refusals() as refused:
            await redis.stop()
            envelope = api.send(first)
            await refused.get()
            assert envelope.envelope_id not in api.socket_mode.acks
            await redis.start()
            again = api.send(first, retry_attempt=1)  # Slack's retry of an unacknowledged event
            await api.wait_until(lambda: again.envelope_id in api.socket_mode.acks)
        assert envelope.envelope_id not in api.socket_mode.acks
        assert await queued_texts(redis) == ["Still there?"]


async def test_a_slash_command_that_cannot_be_queued_asks_the_user_to_send_it_again() -> None:
    async with (
        RedisProcess() as redis,
        FakeSlackAPI() as api,
        ingress(api, redis) as adapter,
    ):
        assert adapter.connected
        command = {
            "command": "/bloombridge",
            "text": "what is a stream?",
            "user_id": "U0ANA",
            "user_name": "ana",
            "team_id": api.team_id,
            "channel_id": "D0INGRESS",
            "channel_name": "directmessage",
            "response_url": api.response_url(),
            "trigger_id": "1337.42",
        }
        await redis.stop()
        envelope = api.send(command, kind="slash_commands")
        await api.wait_until(lambda: envelope.envelope_id in api.socket_mode.acks)
        await redis.start()
        assert await queued_texts(redis) == []
    ack = api.socket_mode.acks[envelope.envelope_id]
    # Slack never sends a slash command again: the acknowledgement tells the user.
    assert ack["payload"]["text"] == notice("not_taken", "en")
    assert ack["payload"]["response_type"] == "ephemeral"
