"""Load: many concurrent conversations through the real pipeline, with each store, against fake TGI.

Run: .venv/bin/python -m bench.load [--conversations 100,500] [--token-delay 0,0.045]
     [--reply-tokens 100] [--stores memory,redis] [--redis-url redis://127.0.0.1:6379/0]
     [--profile load.prof]

The dialog is built by `bots.wiring.build_dialog` from default settings (default guards,
admission, a replica pool of one), once with the in-process store and once with Redis. The fake
TGI runs in a child process (`bench.fake_tgi_process`) and reports TGI's default
`max_concurrent_requests` (128), so beyond that requests wait in the pool's line. CPU per token
is this process's CPU time over the tokens streamed; the bare client (one `TgiGenerator`, no
dialog) is measured in the same run, at each model delay, as the baseline. Memory per reply in
flight is the traced allocation peak while 200-, 1,000- and 2,000-token replies stream, divided
by their number (a separate pass at 25 ms a token, slow enough that the process keeps up and no
unread stream piles up in its buffers). The guards' state is full by 1,000 tokens (the
repetition guard's 256-word window and its tables; `bench.guards` prints them), so what a reply
grows by a token from 1,000 to 2,000 is printed: the reply's own text, as read and as shown. `--profile FILE` writes a cProfile of the pipeline
runs (not the bare client's, nor the memory pass) for `python -m pstats FILE`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import time
import tracemalloc
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import redis.asyncio as aioredis
from pydantic import SecretStr

from bench.fake_tgi_process import fake_tgi_process
from bench.guards import synthetic_tokens
from bots.settings import Settings
from bots.wiring import build_dialog
from core.dialog import DialogManager
from core.generation.base import GenerationParams
from core.generation.tgi import TgiGenerator
from core.messages import ConversationRef, FinishReason, IncomingMessage, Sender

# Memory per reply in flight is measured on replies of these lengths (tokens), streamed at
# MEMORY_DELAY seconds a token so that they are all in flight together. The growth is read
# between the last two, once every guard's fixed window has filled.
MEMORY_LENGTHS = (200, 1000, 2000)
MEMORY_DELAY = 0.025
ANSWERED = {FinishReason.STOP, FinishReason.LENGTH, FinishReason.CUT}


@dataclass(frozen=True)
class ReplyTiming:
    first_text: float
    total: float
    answered: bool


@dataclass(frozen=True)
class RunResult:
    conversations: int
    token_delay: float
    wall: float
    cpu: float
    tokens: int
    timings: list[ReplyTiming]

    @property
    def failed(self) -> int:
        return sum(not t.answered for t in self.timings)

    @property
    def cpu_per_token_us(self) -> float:
        return self.cpu / max(self.tokens, 1) * 1e6


def _message(run: str, conversation: int, text: str) -> IncomingMessage:
    return IncomingMessage(
        id=f"{run}-{conversation}",
        conversation=ConversationRef("bench", None, f"{run}-c{conversation}"),
        sender=Sender(id=f"{run}-u{conversation}", locale_hint="en"),
        text=text,
        sent_at=datetime.now(UTC),
    )


async def _one_reply(dialog: DialogManager, message: IncomingMessage) -> ReplyTiming:
    started = time.perf_counter()
    first: float | None = None
    try:
        stream = dialog.handle(message)
        async for _snapshot in stream:
            if first is None:
                first = time.perf_counter() - started
        reply = stream.reply
    except Exception:
        total = time.perf_counter() - started
        return ReplyTiming(total, total, answered=False)
    total = time.perf_counter() - started
    answered = reply.finish_reason in ANSWERED and bool(reply.text)
    return ReplyTiming(first if first is not None else total, total, answered)


async def _pipeline_run(
    dialog: DialogManager,
    conversations: int,
    token_delay: float,
    reply_tokens: int,
    profile: cProfile.Profile | None = None,
) -> RunResult:
    run = uuid.uuid4().hex[:8]
    text = "Tell me something interesting about rivers."
    messages = [_message(run, c, text) for c in range(conversations)]
    if profile is not None:
        profile.enable()
    cpu, wall = time.process_time(), time.perf_counter()
    timings = await asyncio.gather(*(_one_reply(dialog, m) for m in messages))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profile is not None:
        profile.disable()
    # Each answered reply streamed the fake's reply and its end-of-sequence token.
    tokens = sum(t.answered for t in timings) * (reply_tokens + 1)
    return RunResult(conversations, token_delay, wall, cpu, tokens, list(timings))


async def _bare_client(url: str, conversations: int) -> float:
    """CPU per token of the TGI client alone, `conversations` streams at once (µs)."""
    params = GenerationParams(max_new_tokens=1000)
    async with TgiGenerator(url) as client:

        async def one() -> int:
            return sum([1 async for _ in client.stream("<human>: hi\n<bot>:", params)])

        await asyncio.gather(*(one() for _ in range(10)))  # warm connections
        cpu = time.process_time()
        tokens = sum(await asyncio.gather(*(one() for _ in range(conversations))))
        return (time.process_time() - cpu) / tokens * 1e6


def _memory_key(length: int) -> str:
    return f"tell a story of {length} tokens"


async def _memory_per_reply(dialog: DialogManager, replies: int, length: int) -> float:
    """Peak traced bytes while `replies` replies of `length` tokens stream at once, per reply
    (KiB)."""
    run = uuid.uuid4().hex[:8]
    text = f"Please {_memory_key(length)} about rivers."
    messages = [_message(run, c, text) for c in range(replies)]
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        await asyncio.gather(*(_one_reply(dialog, m) for m in messages))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - base) / replies / 1024


def _settings(url: str, store: str, redis_url: str, namespace: str) -> Settings:
    redis = SecretStr(redis_url) if store == "redis" else None
    return Settings(tgi_urls=[url], redis_url=redis, redis_namespace=namespace)


async def _clean_redis(redis_url: str, namespace: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        async for key in client.scan_iter(match=f"{namespace}:*", count=1000):
            await client.delete(key)
    finally:
        await client.aclose()


def _ms(values: Sequence[float], quantile: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000


def _print_result(result: RunResult, bare_us: float) -> None:
    firsts = [t.first_text for t in result.timings]
    totals = [t.total for t in result.timings]
    per_token = result.cpu_per_token_us
    print(
        f"{result.conversations:>6}{result.token_delay * 1000:>8.0f}"
        f"{len(result.timings) / result.wall:>10.1f}"
        f"{_ms(firsts, 0.5):>9.0f}{_ms(firsts, 0.99):>9.0f}"
        f"{_ms(totals, 0.5):>9.0f}{_ms(totals, 0.99):>9.0f}"
        f"{per_token:>9.1f}{per_token / bare_us:>7.2f}x{result.failed:>8}"
    )


async def main(
    conversations: list[int],
    delays: list[float],
    reply_tokens: int,
    stores: list[str],
    redis_url: str,
    memory_replies: int,
    profile: cProfile.Profile | None = None,
) -> None:
    print(
        f"{reply_tokens}-token replies through the full pipeline (default settings and guards), "
        "fake TGI in a child process on loopback, one reply per conversation"
    )
    for delay in delays:
        with fake_tgi_process(reply_tokens, token_delay=delay) as tgi:
            url = tgi.url
            # The baseline at the same model delay: spaced tokens each cost a network read.
            bare_us = await _bare_client(url, 100)
            print(
                f"\nbare TGI client, 100 streams at once, model delay {delay * 1000:.0f} ms: "
                f"{bare_us:.1f} µs CPU per token"
            )
            for store in stores:
                namespace = f"bench-load-{uuid.uuid4().hex[:8]}"
                settings = _settings(url, store, redis_url, namespace)
                try:
                    async with build_dialog(settings) as dialog:
                        await _one_reply(dialog, _message("warm", 0, "Hello there."))
                        print(f"\nstore: {store}, model delay {delay * 1000:.0f} ms a token")
                        print(
                            f"{'convs':>6}{'delay':>8}{'replies/s':>10}"
                            f"{'first50':>9}{'first99':>9}{'total50':>9}{'total99':>9}"
                            f"{'µs/tok':>9}{'/bare':>8}{'failed':>8}"
                        )
                        for count in conversations:
                            result = await _pipeline_run(
                                dialog, count, delay, reply_tokens, profile
                            )
                            _print_result(result, bare_us)
                finally:
                    if store == "redis":
                        await _clean_redis(redis_url, namespace)
    if memory_replies:
        await _print_memory(stores, redis_url, memory_replies)
    print("\ntimes in ms; µs/tok is this process's CPU per streamed token; /bare is its ratio")
    print("to the bare client's, measured in the same run at the same model delay")


async def _print_memory(stores: list[str], redis_url: str, replies: int) -> None:
    print(
        f"\nmemory per reply in flight ({replies} replies streaming at once, "
        f"{MEMORY_DELAY * 1000:g} ms a token):"
    )
    scripted = {_memory_key(n): synthetic_tokens("en", n, seed=11) for n in MEMORY_LENGTHS}
    # A context long enough for the longest reply (BLOOMChat's is 2,048 tokens with the prompt).
    longest = max(MEMORY_LENGTHS) + 16
    with fake_tgi_process(
        replies=scripted, token_delay=MEMORY_DELAY, max_total_tokens=longest + 1024
    ) as tgi:
        url = tgi.url
        for store in stores:
            namespace = f"bench-load-{uuid.uuid4().hex[:8]}"
            settings = _settings(url, store, redis_url, namespace)
            settings = settings.model_copy(update={"max_new_tokens": longest})
            try:
                async with build_dialog(settings) as dialog:
                    await _one_reply(dialog, _message("warm", 0, "Hello there."))
                    kib = [await _memory_per_reply(dialog, replies, n) for n in MEMORY_LENGTHS]
            finally:
                if store == "redis":
                    await _clean_redis(redis_url, namespace)
            figures = ", ".join(
                f"{n}-token reply {k:.0f} KiB" for n, k in zip(MEMORY_LENGTHS, kib, strict=True)
            )
            windows_full, longest_reply = MEMORY_LENGTHS[-2], MEMORY_LENGTHS[-1]
            growth = (kib[-1] - kib[-2]) * 1024 / (longest_reply - windows_full)
            print(
                f"  {store:>7} store: {figures}; "
                f"{growth:.0f} bytes more a token from {windows_full} tokens on"
            )


def _numbers(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", default="100,500")
    parser.add_argument("--token-delay", default="0,0.045")
    parser.add_argument("--reply-tokens", type=int, default=100)
    parser.add_argument("--stores", default="memory,redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--memory-replies", type=int, default=20)
    parser.add_argument("--profile", help="write a cProfile of the pipeline runs to this file")
    arguments = parser.parse_args()
    profiler = cProfile.Profile() if arguments.profile else None
    asyncio.run(
        main(
            [int(n) for n in _numbers(arguments.conversations)],
            sorted(_numbers(arguments.token_delay)),
            arguments.reply_tokens,
            [s.strip() for s in arguments.stores.split(",") if s.strip()],
            arguments.redis_url,
            arguments.memory_replies,
            profiler,
        )
    )
    if profiler is not None:
        profiler.dump_stats(arguments.profile)
        print(f"profile of the pipeline runs written to {arguments.profile}")
