"""A scale-out rig: an ingress in the test's loop, worker OS processes, fakes for TGI and a platform.

Workers are `python -m bots.cli run <platform> --role worker` child processes talking real
HTTP to the fake TGI and the platform's fake API served here, and real Redis. The ingress is
the platform's real adapter in the ingress role: Telegram long polling, Slack Socket Mode,
the Discord gateway, each against its fake. The fake TGI answers each message with
"Echo <its text>." so a conversation's replies show which message each answered.

`ScaleRig` is what every platform shares (workers, the queue, the reply ledger);
`TelegramRig`, `SlackRig` and `DiscordRig` add sending a platform event and reading what
users see.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr
from redis.asyncio import Redis

from bots import discord_bot, slack_bot, telegram_bot
from bots.roles import running_ingress
from bots.run_command import PlatformBot
from bots.settings import Settings
from core.store.keys import StoreKeys
from tests.bots.cli_process import cli_environment
from tests.fakes.discord_api import FakeDiscordAPI
from tests.fakes.discord_gateway import FakeDiscordGateway
from tests.fakes.discord_model import DiscordWorld
from tests.fakes.discord_rest import ChannelMessage
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_messages import SlackMessage
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


@dataclass(frozen=True)
class LedgerRecord:
    """One message's reply ledger record, read as the test sees it in Redis."""

    owner: str
    state: str
    message_ids: list[str]


@dataclass
class ScaleRig:
    """What a scale-out test drives and reads, whatever the platform."""

    bot: PlatformBot
    tgi: FakeTGI
    settings: Settings
    redis_url: str
    platform_values: dict[str, str]  # the platform's settings, for the workers' environment
    workers: list[asyncio.subprocess.Process] = field(default_factory=list)
    worker_logs: list[asyncio.StreamReader] = field(default_factory=list)

    async def until_queued(self, count: int) -> None:
        """Wait until the ingress has appended `count` messages to the streams in all.

        `entries-added` counts every entry ever appended, so trimming hides none; a blocking
        XREAD wakes when the next entry arrives (or after a second, for one that came between).
        """
        keys = StoreKeys(self.settings.redis_namespace)
        streams = [keys.queue(p) for p in range(self.settings.queue_partitions)]
        async with Redis.from_url(self.redis_url, decode_responses=True) as client:
            async with asyncio.timeout(SCENARIO_LIMIT):
                while sum([await _added(client, key) for key in streams]) < count:
                    await client.xread(dict.fromkeys(streams, "$"), block=1000)

    async def start_workers(self, count: int) -> None:
        for _ in range(count):
            self.workers.append(await self.start_worker())

    async def start_worker(self, **values: str) -> asyncio.subprocess.Process:
        """One `run <platform> --role worker` process; `values` are extra settings for it.

        With BLOOMBRIDGE_TEST_WORKER_LOGS set its log lines go to the test's stderr; with
        `log_format="json"` they are read by the test (`worker_logs`).
        """
        capture = values.get("log_format") == "json"
        env = cli_environment(
            **worker_settings(
                tgi_urls=",".join(self.settings.tgi_urls),
                redis_url=self.redis_url,
                redis_namespace=self.settings.redis_namespace,
                **self.platform_values,
                **values,
            )
        )
        shown = os.environ.get("BLOOMBRIDGE_TEST_WORKER_LOGS")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bots.cli",
            "run",
            self.bot.name,
            "--role",
            "worker",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE
            if capture
            else (None if shown else asyncio.subprocess.DEVNULL),
            env=env,
        )
        if process.stderr is not None:
            self.worker_logs.append(process.stderr)
        return process

    async def records(self) -> list[LedgerRecord]:
        """Every reply ledger record of the namespace (one per message a worker took)."""
        pattern = f"{self.settings.redis_namespace}:reply:*"
        found = []
        async with Redis.from_url(self.redis_url, decode_responses=True) as client:
            async for key in client.scan_iter(match=pattern):
                fields: Any = await client.hgetall(key)  # decoded: str keys and values
                ids = json.loads(fields.get("ids") or "[]")
                found.append(LedgerRecord(fields.get("owner", ""), fields.get("state", ""), ids))
        return found

    async def until_recorded(self) -> LedgerRecord:
        """Wait until a reply's first platform message is in the ledger (polled: Redis does
        not announce a hash write), so a crash now leaves a reply that can be resumed."""
        async with asyncio.timeout(SCENARIO_LIMIT):
            while True:
                recorded = [record for record in await self.records() if record.message_ids]
                if recorded:
                    return recorded[0]
                await asyncio.sleep(0.02)

    def kill(self, worker_id: str) -> asyncio.subprocess.Process:
        """SIGKILL the worker process whose id (host-pid-random) is `worker_id`."""
        pid = int(worker_id.rsplit("-", 2)[1])
        process = next(p for p in self.workers if p.pid == pid)
        os.kill(pid, signal.SIGKILL)
        return process


@dataclass
class TelegramRig(ScaleRig):
    """Telegram: the ingress long-polls the fake Bot API; chats are numbers."""

    api: FakeTelegramAPI = field(kw_only=True)
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


@dataclass
class SlackRig(ScaleRig):
    """Slack: the ingress takes events over the fake's Socket Mode; conversations are DMs."""

    api: FakeSlackAPI = field(kw_only=True)
    _ts: int = 0

    def dm(self, channel: str, text: str) -> dict[str, Any]:
        """A Socket Mode `events_api` payload: a user's message in the DM `channel`."""
        self._ts += 1
        return {
            "type": "event_callback",
            "team_id": self.api.team_id,
            "event_id": f"Ev{self._ts:08d}",
            "event": {
                "type": "message",
                "channel_type": "im",
                "channel": channel,
                "user": f"U{channel[1:]}",
                "text": text,
                "ts": f"1790003000.{self._ts:06d}",
            },
            "authorizations": [{"user_id": self.api.bot_user_id, "is_bot": True}],
        }

    def mention(self, channel: str, text: str) -> dict[str, Any]:
        """An `app_mention` payload: the bot mentioned in a channel, answered in a thread."""
        payload = self.dm(channel, f"<@{self.api.bot_user_id}> {text}")
        event = payload["event"]
        event["type"] = "app_mention"
        del event["channel_type"]
        return payload

    async def feed(self, *events: dict[str, Any]) -> None:
        for event in events:
            self.api.send(event)

    def dms(self, count: int) -> list[str]:
        return [f"D0SCALE{n:02d}" for n in range(count)]

    def replies(self, channel: str) -> list[SlackMessage]:
        return self.api.visible(channel)

    def texts(self, channel: str) -> list[str]:
        return [message.text for message in self.replies(channel)]

    def finished(self, channel: str, count: int) -> bool:
        """`count` replies shown, every one finished (it has feedback buttons)."""
        shown = self.replies(channel)
        return len(shown) >= count and all(m.action_values() for m in shown)

    def posted(self) -> int:
        return len(self.api.calls_to("chat.postMessage"))


# DM channels of the Discord rig's user, one conversation each.
DISCORD_DMS = tuple(str(1_400_000_000_000_100_000 + n) for n in range(16))


@dataclass
class ManyDMs(DiscordWorld):
    """The fake Discord world with more DM channels than its one: `DISCORD_DMS`."""

    def channel(self, channel_id: str) -> dict[str, Any] | None:
        if channel_id in DISCORD_DMS:
            return {"id": channel_id, "type": 1, "recipients": [self.user], "last_message_id": None}
        return super().channel(channel_id)

    def guild_of(self, channel_id: str) -> str | None:
        return None if channel_id in DISCORD_DMS else super().guild_of(channel_id)


@dataclass
class DiscordRig(ScaleRig):
    """Discord: the ingress reads the fake gateway; conversations are DM channels."""

    api: FakeDiscordAPI = field(kw_only=True)
    gateway: FakeDiscordGateway = field(kw_only=True)

    @property
    def world(self) -> DiscordWorld:
        return self.api.world

    def dm(self, channel: str, text: str) -> dict[str, Any]:
        """A MESSAGE_CREATE `d`: the user's message in `channel`, one of `DISCORD_DMS`."""
        return self.world.user_message(channel, text)

    async def feed(self, *payloads: dict[str, Any]) -> None:
        for payload in payloads:
            await self.gateway.dispatch("MESSAGE_CREATE", payload)

    def dms(self, count: int) -> list[str]:
        return list(DISCORD_DMS[:count])

    def replies(self, channel: str) -> list[ChannelMessage]:
        return self.api.visible(channel)

    def texts(self, channel: str) -> list[str]:
        return [message.content for message in self.replies(channel)]

    def ask(self, question: str, *, locale: str = "en-US") -> dict[str, Any]:
        """An INTERACTION_CREATE `d`: `/ask question` in the server's text channel."""
        return ask_interaction(self.api, self.world.channel_id, question, locale=locale)

    def finished(self, channel: str, count: int) -> bool:
        """`count` replies shown, every one finished (it has feedback buttons)."""
        shown = self.replies(channel)
        return len(shown) >= count and all(m.components for m in shown)

    def posted(self) -> int:
        return len(self.api.calls_to("create_message"))


async def queued_texts(
    redis_url: str, namespace: str, *, partitions: int = 16, at_least: int = 0
) -> list[str]:
    """The texts of every message in a namespace's streams, once there are `at_least`.

    A blocking XREAD wakes when the next entry arrives (or after a second).
    """
    streams = [StoreKeys(namespace).queue(partition) for partition in range(partitions)]
    async with Redis.from_url(redis_url, decode_responses=True) as client:
        async with asyncio.timeout(SCENARIO_LIMIT):
            while True:
                texts = []
                for key in streams:
                    entries: Any = await client.xrange(key)
                    texts += [json.loads(fields["message"])["text"] for _, fields in entries]
                if len(texts) >= at_least:
                    return texts
                await client.xread(dict.fromkeys(streams, "$"), block=1000)


def ask_interaction(
    api: FakeDiscordAPI, channel_id: str, question: str, *, locale: str = "en-US"
) -> dict[str, Any]:
    """An INTERACTION_CREATE `d`: `/ask question` as the fake's user runs it in `channel_id`."""
    registered = next(c for c in api.commands if c["name"] == "ask")
    data = {
        "id": registered["id"],
        "name": "ask",
        "type": 1,
        "options": [{"name": registered["options"][0]["name"], "type": 3, "value": question}],
    }
    return api.world.interaction(channel_id, kind=2, data=data, locale=locale)


async def _added(client: Any, key: str) -> int:
    info = await client.xinfo_stream(key)
    return int(info["entries-added"])


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
        **values,
    }


def _settings(tgi: FakeTGI, redis_url: str, namespace: str, platform: dict[str, str]) -> Settings:
    values: dict[str, Any] = worker_settings(
        tgi_urls=tgi.url, redis_namespace=namespace, **platform
    )
    values["redis_url"] = SecretStr(redis_url)
    return Settings(**values)


@asynccontextmanager
async def _ingress(rig: ScaleRig) -> AsyncIterator[None]:
    """The rig's ingress running in this loop; workers stopped when it ends."""
    async with running_ingress(rig.bot, rig.settings):
        try:
            yield
        finally:
            await stop_workers(rig.workers)


@asynccontextmanager
async def scale_rig(
    redis_url: str,
    namespace: str,
    *,
    responder: Callable[[GenerateCall], Script] = echo,
    fake_options: Mapping[str, Any] | None = None,
) -> AsyncIterator[TelegramRig]:
    """Fakes, a Telegram ingress polling the fake Bot API, and no workers yet (`start_workers`)."""
    async with AsyncExitStack() as stack:
        tgi = await stack.enter_async_context(FakeTGI(responder=responder))
        api = await stack.enter_async_context(
            FakeTelegramAPI(token=TOKEN, **dict(fake_options or {}))
        )
        platform = {"telegram_token": TOKEN, "telegram_api_url": api.url}
        settings = _settings(tgi, redis_url, namespace, platform)
        rig = TelegramRig(telegram_bot.BOT, tgi, settings, redis_url, platform, api=api)
        await stack.enter_async_context(_ingress(rig))
        yield rig


@asynccontextmanager
async def slack_scale_rig(
    redis_url: str, namespace: str, *, responder: Callable[[GenerateCall], Script] = echo
) -> AsyncIterator[SlackRig]:
    """Fakes, a Slack ingress on the fake's Socket Mode, and no workers yet."""
    async with AsyncExitStack() as stack:
        tgi = await stack.enter_async_context(FakeTGI(responder=responder))
        api = await stack.enter_async_context(FakeSlackAPI())
        # Workers get the bot token only: they never open Socket Mode.
        platform = {"slack_bot_token": api.bot_token, "slack_api_url": api.base_url}
        ingress = {**platform, "slack_app_token": api.app_token}
        settings = _settings(tgi, redis_url, namespace, ingress)
        rig = SlackRig(slack_bot.BOT, tgi, settings, redis_url, platform, api=api)
        await stack.enter_async_context(_ingress(rig))
        yield rig


@asynccontextmanager
async def discord_scale_rig(
    redis_url: str, namespace: str, *, responder: Callable[[GenerateCall], Script] = echo
) -> AsyncIterator[DiscordRig]:
    """Fakes, a Discord ingress on the fake gateway, and no workers yet."""
    async with AsyncExitStack() as stack:
        tgi = await stack.enter_async_context(FakeTGI(responder=responder))
        world = ManyDMs()
        api = await stack.enter_async_context(FakeDiscordAPI(world))
        gateway = await stack.enter_async_context(FakeDiscordGateway(world))
        platform = {
            "discord_token": world.token,
            "discord_api_url": api.api_url,
            "discord_gateway_url": gateway.url,
        }
        settings = _settings(tgi, redis_url, namespace, platform)
        rig = DiscordRig(
            discord_bot.BOT, tgi, settings, redis_url, platform, api=api, gateway=gateway
        )
        await stack.enter_async_context(_ingress(rig))
        yield rig


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
