"""The Telegram webhook refuses oversize bodies before reading them; normal updates still work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.telegram.webhook import MAX_WEBHOOK_BODY_BYTES, WebhookConfig
from tests.adapters.contract import Place, VirtualClock, dialog_rig
from tests.adapters.telegram.harness import TelegramHarness
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.tgi import Script
from tests.redis_process import free_port

SECRET = "webhook-Secret_for-limits"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
# A reply to an oversize request must come long before the body could have been sent.
_ANSWER_LIMIT_SECONDS = 10.0


@pytest.fixture
async def harness(redis_url: str, redis_namespace: str) -> AsyncIterator[TelegramHarness]:
    webhook = WebhookConfig(
        url="https://bot.example.org/telegram", secret_token=SECRET, port=free_port()
    )
    clock = VirtualClock()
    async with (
        dialog_rig(redis_url, redis_namespace) as rig,
        FakeTelegramAPI(clock=clock.now) as api,
    ):
        harness = TelegramHarness(rig, api, clock, webhook=webhook)
        try:
            await harness.start()
            yield harness
        finally:
            await harness.close()


def endpoint(harness: TelegramHarness) -> tuple[str, int]:
    assert harness.webhook is not None
    return harness.webhook.listen, harness.webhook.port


async def test_a_huge_declared_body_is_refused_before_it_is_sent(harness: TelegramHarness) -> None:
    host, port = endpoint(harness)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = (
            f"POST /telegram HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {90 * 1024 * 1024}\r\n{HEADER}: guess\r\n\r\n"
        )
        writer.write(head.encode() + b"{" + b" " * 1024)
        await writer.drain()
        # The server answers or hangs up at once: it never waits for the other 90 MB.
        async with asyncio.timeout(_ANSWER_LIMIT_SECONDS):
            answer = await reader.read()
    finally:
        writer.close()
    assert not answer.startswith(b"HTTP/1.1 200")


async def test_an_oversize_body_with_the_right_secret_is_not_delivered(
    harness: TelegramHarness,
) -> None:
    host, port = endpoint(harness)
    update = {
        "update_id": 7,
        **harness.message_update("x" * MAX_WEBHOOK_BODY_BYTES, Place.PRIVATE, True),
    }
    async with httpx.AsyncClient(timeout=_ANSWER_LIMIT_SECONDS) as client:
        with pytest.raises(httpx.HTTPError):
            response = await client.post(
                f"http://{host}:{port}/telegram", json=update, headers={HEADER: SECRET}
            )
            response.raise_for_status()
    harness.rig.tgi.enqueue(Script(reply="Small updates still work."))
    small = {"update_id": 8, **harness.message_update("hello", Place.PRIVATE, True)}
    async with httpx.AsyncClient(timeout=_ANSWER_LIMIT_SECONDS) as client:
        ok = await client.post(
            f"http://{host}:{port}/telegram", json=small, headers={HEADER: SECRET}
        )
    assert ok.status_code == 200
    await harness.settle()
    assert [m.text for m in harness.shown(Place.PRIVATE)] == ["Small updates still work."]
    assert len(harness.rig.tgi.generation_requests()) == 1
