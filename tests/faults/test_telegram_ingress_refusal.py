"""An ingress that cannot queue a webhook update answers Telegram with 503, so Telegram retries.

Real python-telegram-bot against the fake Bot API, real HTTP posts to the webhook, and a
redis-server of the test's own that is stopped and started again. The adapter hands each
message on to a Redis Stream instead of answering it, as an ingress process does.
"""

from __future__ import annotations

from typing import Any

import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.webhook import SECRET_HEADER, WebhookConfig
from core.errors import StoreError
from core.messages import IncomingMessage
from tests.adapters.contract import Place, VirtualClock, dialog_rig
from tests.adapters.telegram.harness import TelegramHarness
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.redis_process import RedisProcess, free_port

SECRET = "ingress-Secret_token"
STREAM = "ingress-test:messages"


class HandingOnAdapter(TelegramAdapter):
    """Appends each claimed message to a Redis Stream instead of answering it."""

    def __init__(self, *args: Any, queue: Redis, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deliveries_wait_for_answer = True
        self._queue = queue

    async def answer(self, message: IncomingMessage) -> None:
        try:
            await self._queue.xadd(STREAM, {"text": message.text})
        except RedisError as exc:
            raise StoreError(f"the message could not be queued: {exc}") from exc


async def test_an_update_that_cannot_be_queued_is_refused_and_taken_when_telegram_retries() -> None:
    port = free_port()
    webhook = WebhookConfig(
        url="https://bot.example.org/tg", secret_token=SECRET, port=port, path="tg"
    )
    clock = VirtualClock()
    async with (
        RedisProcess() as redis,
        dialog_rig(redis.url, "ingress") as rig,
        FakeTelegramAPI(clock=clock.now) as api,
        Redis.from_url(redis.url, socket_connect_timeout=2, socket_timeout=2) as queue,
    ):
        adapter = HandingOnAdapter(
            rig.dialog, token=api.token, api_url=api.url, webhook=webhook, clock=clock, queue=queue
        )
        await adapter.start()
        try:
            assert api.webhook["url"] == "https://bot.example.org/tg"
            assert api.webhook["secret_token"] == SECRET
            assert adapter.connected
            # Only the harness's update payloads are used; it never starts an adapter here.
            payloads = TelegramHarness(rig, api, clock)
            update = {"update_id": 9001, **payloads.message_update("Hi", Place.PRIVATE, True)}
            url = f"http://127.0.0.1:{port}/tg"
            headers = {SECRET_HEADER: SECRET}
            async with httpx.AsyncClient(timeout=30.0) as client:
                assert (await client.post(url, json=update)).status_code == 403
                await redis.stop()
                refused = await client.post(url, json=update, headers=headers)
                await redis.start()
                taken = await client.post(url, json=update, headers=headers)
                repeated = await client.post(url, json=update, headers=headers)
                not_json = await client.post(
                    url, content=b"{", headers={**headers, "Content-Type": "application/json"}
                )
        finally:
            await adapter.stop()
        assert refused.status_code == 503
        assert (taken.status_code, repeated.status_code) == (200, 200)
        assert not_json.status_code == 400
        entries = await queue.xrange(STREAM)
        assert entries is not None
        assert [fields[b"text"] for _, fields in entries if fields is not None] == [b"Hi"]
        assert rig.tgi.generation_requests() == []  # handed on, never answered here
