"""TGI latency and errors by replica: a real pool over HTTP to fake TGI servers, read from /metrics."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import aclosing

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bots.ops_server import OpsServer
from core.errors import StreamInterrupted, ValidationError
from core.generation.base import GenerationParams
from core.generation.pool import PoolPolicy, ReplicaPool
from core.generation.tgi import TgiGenerator
from core.metrics import Metrics
from tests.fakes.tgi import FakeTGI, Script, TgiFailure, dead_url

PROMPT = "<human>: hi\n<bot>:"
# Failed replicas stay out of this test's way: no waiting for backoffs, no background probes.
POLICY = PoolPolicy(max_failures=3, backoff_initial=60.0, probe_interval=3600, max_wait=0.0)


class StepClock:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, by name and label set."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def scrape() -> AsyncIterator[tuple[Metrics, aiohttp.ClientSession, str]]:
    metrics = Metrics()
    async with (
        OpsServer(listen="127.0.0.1", port=0, registry=metrics.registry, checks={}) as ops,
        aiohttp.ClientSession() as http,
    ):
        yield metrics, http, f"http://127.0.0.1:{ops.port}/metrics"


async def read_metrics(http: aiohttp.ClientSession, url: str) -> Samples:
    async with http.get(url) as response:
        assert response.status == 200
        return samples(await response.text())


def pool_of(urls: list[str], metrics: Metrics, clock: StepClock | None = None) -> ReplicaPool:
    replicas = [TgiGenerator(url, connect_timeout=2.0, first_token_timeout=5.0) for url in urls]
    return ReplicaPool(
        replicas,
        policy=POLICY,
        clock=clock or StepClock(),
        rng=random.Random(3),
        observer=metrics.replicas,
    )


async def reply(pool: ReplicaPool) -> str:
    return "".join([token.text async for token in pool.stream(PROMPT, GenerationParams())])


async def test_a_reply_and_failing_replicas_move_their_labelled_series(
    scrape: tuple[Metrics, aiohttp.ClientSession, str],
) -> None:
    metrics, http, url = scrape
    refused = dead_url()
    async with FakeTGI() as overloaded, FakeTGI(default=Script(reply="from B")) as answering:
        overloaded.enqueue(Script(failure=TgiFailure.overloaded(), failure_as_status=True))
        # Ties go to the first replica: the refused one is asked first, then the overloaded one.
        async with pool_of([refused, overloaded.url, answering.url], metrics) as pool:
            before = await read_metrics(http, url)
            assert await reply(pool) == "from B"
            after = await read_metrics(http, url)

    errors = "bloombridge_tgi_errors_total"
    assert value(before, errors, replica=refused, error="unreachable") == 0
    assert value(after, errors, replica=refused, error="unreachable") == 1
    assert value(after, errors, replica=overloaded.url, error="overloaded") == 1
    assert value(after, errors, replica=answering.url, error="overloaded") == 0
    first = "bloombridge_tgi_first_token_seconds_count"
    assert value(before, first, replica=answering.url) == 0
    assert value(after, first, replica=answering.url) == 1
    assert value(after, first, replica=overloaded.url) == 0
    ended = "bloombridge_tgi_stream_seconds_count"
    assert value(after, ended, replica=answering.url, end="finished") == 1


async def test_latency_is_timed_from_sending_to_first_token_and_to_the_end(
    scrape: tuple[Metrics, aiohttp.ClientSession, str],
) -> None:
    metrics, http, url = scrape
    clock = StepClock()
    released = asyncio.Event()
    async with FakeTGI() as tgi, pool_of([tgi.url], metrics, clock) as pool:
        tgi.enqueue(Script(reply=["one", " two"], hang=released, hang_after=0))
        async with aclosing(pool.stream(PROMPT, GenerationParams())) as tokens:
            reading = asyncio.create_task(anext(tokens))
            await tgi.wait_for_requests(1)  # the replica holds the request before its first token
            clock.now += 1.5
            released.set()
            first = await reading
            assert first.text == "one"
            clock.now += 2.25  # the rest of the reply takes its time
            rest = [token.text async for token in tokens]
        assert "".join(rest) == " two"  # the final event may carry no text
        found = await read_metrics(http, url)
    first_sum = value(found, "bloombridge_tgi_first_token_seconds_sum", replica=tgi.url)
    total_sum = value(found, "bloombridge_tgi_stream_seconds_sum", replica=tgi.url, end="finished")
    assert first_sum == 1.5
    assert total_sum == 3.75
    bucket = value(
        found, "bloombridge_tgi_stream_seconds_bucket", replica=tgi.url, end="finished", le="5.0"
    )
    assert bucket == 1


async def test_broken_streams_rejected_requests_and_early_stops_are_told_apart(
    scrape: tuple[Metrics, aiohttp.ClientSession, str],
) -> None:
    metrics, http, url = scrape
    clock = StepClock()
    async with FakeTGI() as tgi, pool_of([tgi.url], metrics, clock) as pool:
        tgi.enqueue(
            Script(reply="a partial answer here", drop_after=2),
            Script(failure=TgiFailure.validation()),
            Script(reply="a long answer the reader leaves"),
        )
        with pytest.raises(StreamInterrupted):
            await reply(pool)
        clock.now += 100  # past the backoff the broken stream earned
        with pytest.raises(ValidationError):
            await reply(pool)
        async with aclosing(pool.stream(PROMPT, GenerationParams())) as tokens:
            await anext(tokens)  # a guard cut: the reader stops after one token
        found = await read_metrics(http, url)
    errors = "bloombridge_tgi_errors_total"
    assert value(found, errors, replica=tgi.url, error="broken_stream") == 1
    assert value(found, errors, replica=tgi.url, error="validation") == 1
    ended = "bloombridge_tgi_stream_seconds_count"
    assert value(found, ended, replica=tgi.url, end="stopped") == 1
    assert value(found, ended, replica=tgi.url, end="finished") == 0
    # The broken stream had its first token; the rejected request never did.
    assert value(found, "bloombridge_tgi_first_token_seconds_count", replica=tgi.url) == 2


async def test_each_replicas_state_and_load_are_read_when_scraped(
    scrape: tuple[Metrics, aiohttp.ClientSession, str],
) -> None:
    metrics, http, url = scrape
    refused = dead_url()
    released = asyncio.Event()
    async with FakeTGI() as tgi, pool_of([refused, tgi.url], metrics) as pool:
        metrics.replicas.watch(pool.statuses, lambda: pool.waiting)
        tgi.enqueue(Script(reply="held", hang=released))
        async with aclosing(pool.stream(PROMPT, GenerationParams())) as tokens:
            reading = asyncio.create_task(anext(tokens))
            await tgi.wait_for_requests(1)
            during = await read_metrics(http, url)
            released.set()
            await reading
        after = await read_metrics(http, url)
    in_flight = "bloombridge_tgi_replica_in_flight"
    assert value(during, in_flight, replica=tgi.url) == 1
    assert value(after, in_flight, replica=tgi.url) == 0
    state = "bloombridge_tgi_replica_state"
    assert value(after, state, replica=tgi.url, state="healthy") == 1
    assert value(after, state, replica=refused, state="backed_off") == 1
    assert value(after, state, replica=refused, state="healthy") == 0
    assert value(after, "bloombridge_tgi_waiting") == 0
