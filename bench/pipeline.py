"""Pipeline overhead: full dialog pipeline vs the bare TGI client, and replies/s at 50 conversations.

Run: .venv/bin/python -m bench.pipeline [--runs 60] [--concurrency 50] [--rounds 5]
The fake TGI runs in a child process on loopback with zero model delay, so every figure is
bloombridge's own cost plus HTTP. This process's CPU time per reply is printed beside the rates:
it is what bounds them.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from bench.fake_tgi_process import FakeTgiChild, fake_tgi_process
from bots.language_setup import build_language_policy, load_language_models
from bots.settings import Settings
from bots.wiring import build_guards
from core.config import DialogConfig
from core.dialog import DialogManager
from core.generation.base import GenerationParams
from core.generation.pool import ReplicaPool
from core.generation.tgi import TgiGenerator
from core.guards.base import Guard
from core.messages import ConversationRef, IncomingMessage, Sender
from core.store.memory import MemoryStore

REPLY_TOKENS = 200
PARAMS = GenerationParams(max_new_tokens=REPLY_TOKENS + 10)


def _message(conversation: int, number: int) -> IncomingMessage:
    return IncomingMessage(
        id=f"{conversation}-{number}",
        conversation=ConversationRef("bench", None, f"c{conversation}"),
        sender=Sender(id=f"u{conversation}"),
        text=f"Tell me something interesting, number {number}.",
        sent_at=datetime.now(UTC),
    )


async def _direct(url: str, runs: int) -> tuple[list[float], list[float]]:
    firsts, totals = [], []
    async with TgiGenerator(url) as client:
        for _ in range(runs):
            started = time.perf_counter()
            first = None
            async for _token in client.stream("<human>: hi\n<bot>:", PARAMS):
                if first is None:
                    first = time.perf_counter() - started
            totals.append(time.perf_counter() - started)
            firsts.append(first if first is not None else totals[-1])
    return firsts, totals


def _dialog(pool: ReplicaPool, guards: Sequence[Guard] = ()) -> DialogManager:
    config = DialogConfig(generation=PARAMS, history_turns=4)
    # The reply language is chosen as the bots choose it (the message is English).
    return DialogManager(
        generator=pool,
        store=MemoryStore(),
        config=config,
        language_policy=build_language_policy(Settings(tgi_urls=["http://127.0.0.1:1"])),
        guards=guards,
    )


async def _pipeline(
    url: str, runs: int, guards: Sequence[Guard] = ()
) -> tuple[list[float], list[float]]:
    firsts, totals = [], []
    async with ReplicaPool.from_urls([url]) as pool:
        dialog = _dialog(pool, guards)
        for number in range(runs):
            started = time.perf_counter()
            first = None
            stream = dialog.handle(_message(0, number))
            async for _snapshot in stream:
                if first is None:
                    first = time.perf_counter() - started
            totals.append(time.perf_counter() - started)
            firsts.append(first if first is not None else totals[-1])
    return firsts, totals


class _Rate(NamedTuple):
    """Replies per second, and CPU seconds per reply of this process and of the fake TGI's."""

    per_second: float
    cpu_per_reply: float
    server_cpu_per_reply: float


async def _timed(tgi: FakeTgiChild, replies: int, work: Awaitable[object]) -> _Rate:
    server_started = tgi.cpu_seconds()
    started, cpu_started = time.perf_counter(), time.process_time()
    await work
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return _Rate(replies / elapsed, cpu / replies, (tgi.cpu_seconds() - server_started) / replies)


async def _throughput(tgi: FakeTgiChild, concurrency: int, guards: Sequence[Guard] = ()) -> _Rate:
    async with ReplicaPool.from_urls([tgi.url]) as pool:
        dialog = _dialog(pool, guards)
        replies = (dialog.handle(_message(c, 0)).collect() for c in range(concurrency))
        return await _timed(tgi, concurrency, asyncio.gather(*replies))


async def _client_throughput(tgi: FakeTgiChild, concurrency: int) -> _Rate:
    """Replies per second of the bare TGI client, `concurrency` streams at once."""

    async def one(client: TgiGenerator) -> None:
        async for _token in client.stream("<human>: hi\n<bot>:", PARAMS):
            pass

    async with TgiGenerator(tgi.url) as client:
        streams = asyncio.gather(*(one(client) for _ in range(concurrency)))
        return await _timed(tgi, concurrency, streams)


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


async def main(runs: int, concurrency: int, rounds: int) -> None:
    settings = Settings(tgi_urls=["http://127.0.0.1:1"])
    await load_language_models(settings)
    guards = build_guards(settings)
    with fake_tgi_process(REPLY_TOKENS) as tgi:
        await _direct(tgi.url, 3)  # warm up connections and caches
        direct = await _direct(tgi.url, runs)
        bare = await _pipeline(tgi.url, runs)
        guarded = await _pipeline(tgi.url, runs, guards)
        # Alternated, so a machine busy for a while slows each kind alike.
        rates: dict[str, list[_Rate]] = {"client": [], "bare": [], "guarded": []}
        for _ in range(rounds):
            rates["client"].append(await _client_throughput(tgi, concurrency))
            rates["bare"].append(await _throughput(tgi, concurrency))
            rates["guarded"].append(await _throughput(tgi, concurrency, guards))
    kinds = ("client", "bare", "guarded")
    client_rate, bare_rate, guarded_rate = (
        statistics.median(rate.per_second for rate in rates[kind]) for kind in kinds
    )
    client_cpu, bare_cpu, guarded_cpu = (
        statistics.median(rate.cpu_per_reply for rate in rates[kind]) * 1000 for kind in kinds
    )
    server_cpu = statistics.median(
        rate.server_cpu_per_reply for kind in kinds for rate in rates[kind]
    )
    names = ", ".join(guard.name for guard in guards)
    print(
        f"{REPLY_TOKENS}-token reply, median of {runs} runs, fake TGI on loopback, no model delay"
    )
    print(f"pipeline without guards, and with the default guards ({names})")
    print(f"{'':22}{'direct client':>15}{'pipeline':>12}{'ratio':>7}{'+ guards':>12}{'ratio':>7}")
    for index, label in enumerate(("time to first token", "total time")):
        base, plain, full = _ms(direct[index]), _ms(bare[index]), _ms(guarded[index])
        print(
            f"{label:22}{base:>12.2f} ms{plain:>9.2f} ms{plain / base:>6.2f}x"
            f"{full:>9.2f} ms{full / base:>6.2f}x"
        )
    print(
        f"replies per second, {concurrency} concurrent conversations (median of {rounds} rounds): "
        f"bare client {client_rate:.1f}, pipeline {bare_rate:.1f} "
        f"({bare_rate / client_rate:.2f}x), pipeline with the default guards "
        f"{guarded_rate:.1f} ({guarded_rate / client_rate:.2f}x the bare client; goal >= 0.8x)"
    )
    # One process does all the client-side work, so its CPU per reply bounds its rate: 0.8x the
    # bare client's rate leaves 1 / (0.8 x rate) seconds a reply for everything, guards included
    # (the fake TGI's process, on the other core, has its own work).
    print(
        f"CPU per reply: this process, bare client {client_cpu:.2f} ms, pipeline "
        f"{bare_cpu:.2f} ms, with the default guards {guarded_cpu:.2f} ms; the fake TGI's "
        f"process {server_cpu * 1000:.2f} ms. 0.8x the bare client's rate allows this process "
        f"at most {1000 / (0.8 * client_rate):.2f} ms a reply"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.runs, arguments.concurrency, arguments.rounds))
