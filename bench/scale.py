"""Scale-out: replies per second with 1, 2 and 4 worker processes, and ingress to first text.

Run: .venv/bin/python -m bench.scale [--workers 1,2,4] [--messages 64] [--reply-tokens 30]
     [--token-delay 0.03] [--in-flight 8] [--redis-url redis://127.0.0.1:6379/0]

Each round starts N real worker processes (`bloombridge run telegram --role worker`), waits
until they have taken every partition, then hands `--messages` messages (one per private
chat) to the queue exactly as an ingress does (`MessageQueue.append`) and measures until the
last final reply is shown. The fake TGI runs in a child process (`bench.fake_tgi_process`),
streaming `--reply-tokens` tokens `--token-delay` seconds apart; the fake Bot API runs here.
Each worker answers at most `--in-flight` messages at once (BLOOMBRIDGE_WORKER_MAX_IN_FLIGHT),
so the ratio to one worker shows how the work spreads. "First text" is the time from the
hand-off to the first draft or message the user's chat shows. Every round uses a namespace of
its own, deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import redis.asyncio as aioredis

from bench.fake_tgi_process import fake_tgi_process
from core.messages import ConversationRef, IncomingMessage, PlaceKind, Sender
from core.queue.streams import MessageQueue
from core.store.keys import StoreKeys
from tests.bots.cli_process import cli_environment
from tests.bots.scale_rig import stop_workers
from tests.fakes.telegram_api import FakeTelegramAPI

TOKEN = "424242:bench-scale-token"
PARTITIONS = 16
_VISIBLE = ("sendMessageDraft", "sendMessage")


@dataclass(frozen=True)
class Round:
    workers: int
    seconds: float  # hand-off of the first message to the last final reply
    first_text: list[float]  # per message: hand-off to the first visible text

    @property
    def replies_per_second(self) -> float:
        return len(self.first_text) / self.seconds


def _message(chat_id: int) -> IncomingMessage:
    return IncomingMessage(
        id="1",
        conversation=ConversationRef("telegram", None, str(chat_id), kind=PlaceKind.PRIVATE),
        sender=Sender(str(chat_id), "Bench", locale_hint="en"),
        text=f"Tell me about scaling, please ({chat_id}).",
        sent_at=datetime.now(UTC),
    )


async def _start_workers(count: int, env: dict[str, str]) -> list[asyncio.subprocess.Process]:
    return [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bots.cli",
            "run",
            "telegram",
            "--role",
            "worker",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
        )
        for _ in range(count)
    ]


async def _until_partitions_owned(client: aioredis.Redis, keys: StoreKeys, workers: int) -> None:
    """Every partition leased, by as many distinct workers as were started (polled)."""
    async with asyncio.timeout(180):
        while True:
            owners = [await client.get(keys.queue_lease(p)) for p in range(PARTITIONS)]
            live = await client.zcard(keys.queue_workers())
            if all(owners) and live == workers and len(set(owners)) == min(workers, PARTITIONS):
                return
            await asyncio.sleep(0.2)


async def _until_answered(client: aioredis.Redis, keys: StoreKeys, chats: list[int]) -> None:
    """Every message's reply ledger says answered (polled; the last reply is shown by then)."""
    records = [keys.reply(_message(chat).conversation, "1") for chat in chats]
    async with asyncio.timeout(300):
        while True:
            states = [await client.hget(record, "state") for record in records]
            if all(state == "answered" for state in states):
                return
            await asyncio.sleep(0.1)


async def run_round(
    workers: int, *, tgi_url: str, redis_url: str, messages: int, in_flight: int
) -> Round:
    namespace = f"bench-scale-{uuid.uuid4().hex[:8]}"
    keys = StoreKeys(namespace)
    async with (
        FakeTelegramAPI(token=TOKEN, clock=time.time) as api,
        aioredis.Redis.from_url(redis_url, decode_responses=True) as client,
    ):
        env = cli_environment(
            tgi_urls=tgi_url,
            redis_url=redis_url,
            redis_namespace=namespace,
            telegram_token=TOKEN,
            telegram_api_url=api.url,
            queue_partitions=str(PARTITIONS),
            worker_max_in_flight=str(in_flight),
            rate_limit_per_user="",
            rate_limit_per_conversation="",
            language_detector="cld2",  # starts in milliseconds; the guards stay as configured
            log_level="WARNING",
        )
        processes = await _start_workers(workers, env)
        try:
            await _until_partitions_owned(client, keys, workers)
            queue = MessageQueue(client, keys, partitions=PARTITIONS)
            chats = [100_000 + n for n in range(messages)]
            handed: dict[int, float] = {}
            started = time.time()
            for chat in chats:
                handed[chat] = time.time()
                await queue.append(_message(chat))

            await _until_answered(client, keys, chats)
            seconds = time.time() - started
            first: dict[int, float] = {}
            for call in api.calls:
                if call.method in _VISIBLE and call.failed is None:
                    chat = int(call.params["chat_id"])
                    first.setdefault(chat, call.at - handed[chat])
            return Round(workers, seconds, [first[chat] for chat in chats])
        finally:
            await stop_workers(processes)
            async for key in client.scan_iter(match=f"{namespace}:*"):
                await client.delete(key)


def _p99(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


async def main(
    worker_counts: Sequence[int],
    *,
    redis_url: str,
    messages: int,
    reply_tokens: int,
    token_delay: float,
    in_flight: int,
) -> None:
    with fake_tgi_process(reply_tokens, token_delay=token_delay) as tgi:
        tgi_url = tgi.url
        rounds = [
            await run_round(
                count, tgi_url=tgi_url, redis_url=redis_url, messages=messages, in_flight=in_flight
            )
            for count in worker_counts
        ]
    print(
        f"{messages} messages, one per chat; {reply_tokens} tokens at {token_delay * 1000:g} ms "
        f"a token; at most {in_flight} replies in flight per worker; {PARTITIONS} partitions"
    )
    print("workers  replies/s  ratio to 1  first text p50  first text p99")
    base = rounds[0].replies_per_second
    for result in rounds:
        print(
            f"{result.workers:7d}  {result.replies_per_second:9.2f}  "
            f"{result.replies_per_second / base:10.2f}  "
            f"{statistics.median(result.first_text):12.2f}s  {_p99(result.first_text):13.2f}s"
        )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--messages", type=int, default=64)
    parser.add_argument("--reply-tokens", type=int, default=30)
    parser.add_argument("--token-delay", type=float, default=0.03)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    counts = [int(value) for value in args.workers.split(",") if value.strip()]
    asyncio.run(
        main(
            counts,
            redis_url=args.redis_url,
            messages=args.messages,
            reply_tokens=args.reply_tokens,
            token_delay=args.token_delay,
            in_flight=args.in_flight,
        )
    )


if __name__ == "__main__":
    cli()
