"""A scale-out rig: an ingress in the test's loop, worker OS processes, fakes for TGI and Telegram.

Workers are `python -m bots.cli run telegram --role worker` child processes talking real HTTP
to the fake TGI and the fake Bot API served here, and real Redis. The fake TGI answers each
message with "Echo <its text>." so a chat's replies show which message each answered.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from bots.roles import running_ingress
from bots.settings import Settings
from bots.telegram_bot import BOT
from core.messages import ConversationRef, PlaceKind
from core.queue.ledger import ReplyLedger
from core.store.keys import StoreKeys
from tests.bots.cli_process import cli_environment
from tests.fakes.telegram_api import ChatMessage, FakeTelegramAPI
from tests.fakes.tgi import FakeTGI, GenerateCall, Script

TOKEN = "424242:scale-out-token"
# Seconds a whole scenario may take, worker start-up included (a loaded CI machine is slow).
SCENARIO_LIMIT = 120.0


def asked(call: GenerateCall) -> str:
    """The newest user message of a prompt (history turns come before it)."""
    newest = call.inputs.rsplit("<human>:", 1)[-1]
    return newest.rsplit("<bot>:", 1)[0].strip()


def echo(call: GenerateCall) -> Script:
    return Script(reply=f"Echo {asked(call)}.")


@dataclass
class ScaleRig:
    """What a scale-out test drives and reads."""

    api: FakeTelegramAPI
    tgi: FakeTGI
    settings: Settings
    redis_url: str
    workers: list[asyncio.subprocess.Process] = field(default_factory=list)
    _update_ids: int = 700_000
    _message_ids: dict[int, int] = field(default_factory=dict)

    def message(self, chat_id: int, text: str, *, update_id: int | None = None) -> dict[str, Any]:
        """A Telegram update: a private message, or a mention in a group (negative chat id)."""
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        user = {"id": abs(chat_id), "is_bot": False, "first_name": f"User {abs(chat_id)}"}
        private = chat_id > 0
        chat = {"id": chat_id, "type": "private" if private else "supergroup", "title": "Team"}
        body: dict[str, Any] = {
            "message_id": self._message_ids[chat_id],
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if not private:
            mention = f"@{self.api.bot_username}"
            body["text"] = f"{mention} {text}"
            body["entities"] = [{"type": "mention", "offset": 0, "length": len(mention)}]
        if update_id is None:
            self._update_ids += 1
            update_id = self._update_ids
        return {"update_id": update_id, "message": body}

    def replies(self, chat_id: int) -> list[ChatMessage]:
        return self.api.visible(chat_id)

    def finished(self, chat_id: int, count: int) -> bool:
        """`count` replies shown in the chat, the last one finished (it has feedback buttons)."""
        shown = self.replies(chat_id)
        return len(shown) >= count and all(m.reply_markup is not None for m in shown)

    async def until_queued(self, count: int) -> None:
        """Wait until the ingress has appended `count` messages to the streams in all.

        `entries-added` counts every entry ever appended, so trimming hides none; a blocking
        XREAD wakes when the next entry arrives (or after a second, for one that came between).
        """
        from redis.asyncio import Redis

        keys = StoreKeys(self.settings.redis_namespace)
        streams = [keys.queue(p) for p in range(self.settings.queue_partitions)]
        async with Redis.from_url(self.redis_url, decode_responses=True) as client:
            async with asyncio.timeout(SCENARIO_LIMIT):
                while sum([await _added(client, key) for key in streams]) < count:
                    await client.xread(dict.fromkeys(streams, "$"), block=1000)

    async def start_workers(self, count: int) -> None:
        for _ in range(count):
            self.workers.append(await start_worker(self.settings, self.redis_url))

    async def owner_of(self, chat_id: int, message_id: int) -> str | None:
        async with ledger_of(self.settings, self.redis_url) as ledger:
            conversation = ConversationRef("telegram", None, str(chat_id), kind=PlaceKind.GROUP)
            return await ledger.owner(conversation, str(message_id))

    async def until_recorded(self, chat_id: int, message_id: int) -> None:
        """Wait until the reply's first platform message is in the ledger (polled: Redis does
        not announce a hash write), so a crash now leaves a reply that can be resumed."""
        conversation = ConversationRef("telegram", None, str(chat_id), kind=PlaceKind.GROUP)
        async with ledger_of(self.settings, self.redis_url) as ledger:
            async with asyncio.timeout(SCENARIO_LIMIT):
                while not await ledger.message_ids(conversation, str(message_id)):  # noqa: ASYNC110
                    await asyncio.sleep(0.02)

    def kill(self, worker_id: str) -> asyncio.subprocess.Process:
        """SIGKILL the worker process whose id (host-pid-random) is `worker_id`."""
        pid = int(worker_id.rsplit("-", 2)[1])
        process = next(p for p in self.workers if p.pid == pid)
        os.kill(pid, signal.SIGKILL)
        return process


async def _added(client: Any, key: str) -> int:
    info = await client.xinfo_stream(key)
    return int(info["entries-added"])


@asynccontextmanager
async def ledger_of(settings: Settings, redis_url: str) -> AsyncIterator[ReplyLedger]:
    from redis.asyncio import Redis

    async with Redis.from_url(redis_url, decode_responses=True) as client:
        yield ReplyLedger(client, StoreKeys(settings.redis_namespace), ttl_seconds=600)


def worker_settings(**values: str) -> dict[str, str]:
    """Settings shared by ingress and workers: short leases, no rate limits, plain guards."""
    return {
        "queue_partitions": "8",
        # A killed worker is replaced within 10 s; a loaded machine may starve a worker for seconds.
        "queue_lease_seconds": "10",
        "queue_retry_seconds": "0.2",
        "rate_limit_per_user": "",
        "rate_limit_per_conversation": "",
        "safety_enabled": "false",
        "language_guard": "false",
        "repetition_guard": "false",
        "language_detector": "cld2",  # loads in milliseconds: workers start fast
        "telegram_token": TOKEN,
        **values,
    }


async def start_worker(settings: Settings, redis_url: str) -> asyncio.subprocess.Process:
    values = worker_settings(
        tgi_urls=",".join(settings.tgi_urls),
        redis_url=redis_url,
        redis_namespace=settings.redis_namespace,
        telegram_api_url=settings.telegram.api_url,
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.cli",
        "run",
        "telegram",
        "--role",
        "worker",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=None
        if os.environ.get("BLOOMBRIDGE_TEST_WORKER_LOGS")
        else asyncio.subprocess.DEVNULL,
        env=cli_environment(**values),
    )


@asynccontextmanager
async def scale_rig(
    redis_url: str,
    namespace: str,
    *,
    responder: Callable[[GenerateCall], Script] = echo,
    fake_options: Mapping[str, Any] | None = None,
) -> AsyncIterator[ScaleRig]:
    """Fakes, an ingress polling the fake Bot API, and no workers yet (`start_workers`)."""
    async with AsyncExitStack() as stack:
        tgi = await stack.enter_async_context(FakeTGI(responder=responder))
        api = await stack.enter_async_context(
            FakeTelegramAPI(token=TOKEN, **dict(fake_options or {}))
        )
        values: dict[str, Any] = worker_settings(
            tgi_urls=tgi.url,
            redis_namespace=namespace,
            telegram_api_url=api.url,
        )
        values["redis_url"] = SecretStr(redis_url)
        settings = Settings(**values)
        rig = ScaleRig(api, tgi, settings, redis_url)
        await stack.enter_async_context(running_ingress(BOT, settings))
        try:
            yield rig
        finally:
            await stop_workers(rig.workers)


async def stop_workers(workers: list[asyncio.subprocess.Process]) -> None:
    """SIGTERM (a graceful stop), then SIGKILL whatever is still running after the drain."""
    for process in workers:
        if process.returncode is None:
            process.terminate()
    for process in workers:
        try:
            async with asyncio.timeout(20):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
