"""A real `bloombridge run telegram` process: /healthz, /readyz and /metrics as an operator sees them."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from tests.bots.cli_process import cli_environment
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.tgi import FakeTGI, Script
from tests.redis_process import RedisProcess, free_port

TOKEN = "424242:AAH-operations-test-token"
# Starting Python and loading the language models takes a while on a busy CI machine.
_LIMIT_SECONDS = 120.0


class BotProcess:
    """The bot as a child process and an HTTP client for its operations port."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.base = f"http://127.0.0.1:{port}"
        self.http = aiohttp.ClientSession()

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(self.base + path) as response:
            return response.status, await response.text()

    async def eventually(self, path: str, accept: Callable[[int, str], bool]) -> str:
        """Poll `path` until `accept(status, body)` holds (the child changes state on its own)."""
        async with asyncio.timeout(_LIMIT_SECONDS):
            while True:
                try:
                    status, body = await self.get(path)
                    if accept(status, body):
                        return body
                except aiohttp.ClientConnectionError:
                    if self.process.returncode is not None:
                        raise AssertionError("the bot process exited") from None
                await asyncio.sleep(0.1)


def metric(text: str, name: str, labels: str = "") -> float:
    """A sample's value in Prometheus text, 0 when absent."""
    wanted = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return 0.0


@pytest.fixture
async def redis() -> AsyncIterator[RedisProcess]:
    async with RedisProcess() as server:
        yield server


async def start_bot(env: dict[str, str], port: int) -> BotProcess:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.cli",
        "run",
        "telegram",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    return BotProcess(process, port)


async def stop_bot(bot: BotProcess) -> str:
    await bot.http.close()
    if bot.process.returncode is None:
        bot.process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        _, stderr = await bot.process.communicate()
    return stderr.decode()


def private_message(text: str) -> dict[str, Any]:
    return {
        "message": {
            "message_id": 7,
            "date": int(time.time()),
            "chat": {"id": 777, "type": "private", "first_name": "Ana"},
            "from": {"id": 777, "is_bot": False, "first_name": "Ana"},
            "text": text,
        }
    }


async def test_health_readiness_and_metrics_of_a_running_bot(redis: RedisProcess) -> None:
    port = free_port()
    async with FakeTGI() as tgi, FakeTelegramAPI(token=TOKEN) as api:
        tgi.enqueue(Script(reply="Hello! How can I help?"))
        env = cli_environment(
            tgi_urls=tgi.url,
            redis_url=redis.url,
            telegram_token=TOKEN,
            telegram_api_url=api.url,
            ops_listen="127.0.0.1",
            ops_port=str(port),
            log_format="json",
        )
        bot = await start_bot(env, port)
        try:
            await bot.eventually("/healthz", lambda status, _: status == 200)
            await bot.eventually("/readyz", lambda status, _: status == 200)
            _, before = await bot.get("/metrics")
            api.feed(private_message("Hello there, who are you?"))
            await api.wait_until(lambda: any(m.reply_markup for m in api.visible(777)))
            after = await bot.eventually(
                "/metrics",
                lambda _, text: (
                    metric(
                        text,
                        "bloombridge_replies_total",
                        'finish_reason="stop",language="en",platform="telegram"',
                    )
                    == 1
                ),
            )
            received = 'platform="telegram"'
            assert metric(before, "bloombridge_messages_received_total", received) == 0
            assert metric(after, "bloombridge_messages_received_total", received) == 1
            assert metric(after, "bloombridge_first_visible_seconds_count") == 1
            assert metric(after, "bloombridge_generated_tokens_total") > 0
            replica = f'replica="{tgi.url}"'
            assert metric(after, "bloombridge_tgi_first_token_seconds_count", replica) == 1
            stream_end = f'end="finished",{replica}'  # labels print in name order
            assert metric(after, "bloombridge_tgi_stream_seconds_count", stream_end) == 1
            healthy = f'{replica},state="healthy"'
            assert metric(after, "bloombridge_tgi_replica_state", healthy) == 1

            tgi.healthy = False  # every replica down
            body = await bot.eventually("/readyz", lambda status, _: status == 503)
            assert "no model replica answers /health" in body
            tgi.healthy = True
            await bot.eventually("/readyz", lambda status, _: status == 200)

            await redis.stop()
            body = await bot.eventually("/readyz", lambda status, _: status == 503)
            assert '"store": "the conversation store does not answer' in body
            assert await bot.get("/healthz") == (200, "ok\n")
        finally:
            stderr = await stop_bot(bot)
    assert bot.process.returncode == 0, stderr
    assert TOKEN not in stderr
    records = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert records and all("level" in record for record in records)
    # Lines written while the message was handled (the replies sent, the model asked) carry
    # its ids, never its text.
    handling = [record for record in records if record.get("message_id") == "7"]
    assert handling
    assert {record["conversation"] for record in handling} == {"telegram:-:777:-"}
    assert all(record["platform"] == "telegram" for record in handling)
    assert not any("Hello there" in json.dumps(record) for record in records)


async def test_a_worker_serves_the_backlog_its_autoscaler_reads(redis: RedisProcess) -> None:
    port = free_port()
    async with FakeTGI() as tgi, FakeTelegramAPI(token=TOKEN) as api:
        env = cli_environment(
            tgi_urls=tgi.url,
            redis_url=redis.url,
            redis_namespace="bloombridge-telegram",
            telegram_token=TOKEN,
            telegram_api_url=api.url,
            ops_listen="127.0.0.1",
            ops_port=str(port),
            queue_lease_seconds="3",  # the backlog is measured every third of it
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bots.cli",
            "run",
            "telegram",
            "--role",
            "worker",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        worker = BotProcess(process, port)
        try:
            text = await worker.eventually(
                "/metrics", lambda _, body: 'bloombridge_queue_backlog{platform="telegram"}' in body
            )
        finally:
            stderr = await stop_bot(worker)
    assert metric(text, "bloombridge_queue_backlog", 'platform="telegram"') == 0
    assert worker.process.returncode == 0, stderr
