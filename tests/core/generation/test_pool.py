"""ReplicaPool over real TGI generators and fake TGI servers: routing, failover, backoff, probes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from core.errors import (
    ConfigurationError,
    NoReplicaAvailable,
    OverloadedError,
    StreamInterrupted,
    UnhealthyError,
    ValidationError,
)
from core.generation.base import GenerationParams, TextGenerator
from core.generation.health import ReplicaState
from core.generation.pool import PoolPolicy, ReplicaPool
from core.generation.tgi import TgiGenerator
from tests.fakes.tgi import FakeTGI, Script, TgiFailure, dead_url


class FakeClock:
    """A monotonic clock the test moves; `sleep` advances it instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


POLICY = PoolPolicy(
    max_failures=2, backoff_initial=1.0, backoff_max=8.0, probe_interval=3600, max_wait=0.0
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def servers() -> AsyncIterator[tuple[FakeTGI, FakeTGI]]:
    async with (
        FakeTGI(default=Script(reply="from A")) as a,
        FakeTGI(default=Script(reply="from B")) as b,
    ):
        yield a, b


def make_pool(urls: list[str], clock: FakeClock, policy: PoolPolicy = POLICY) -> ReplicaPool:
    replicas = [TgiGenerator(url, connect_timeout=2.0, first_token_timeout=5.0) for url in urls]
    return ReplicaPool(
        replicas, policy=policy, clock=clock, sleep=clock.sleep, rng=random.Random(7)
    )


async def reply(pool: ReplicaPool, prompt: str = "<human>: hi\n<bot>:") -> str:
    return "".join([token.text async for token in pool.stream(prompt, GenerationParams())])


def states(pool: ReplicaPool) -> list[ReplicaState]:
    return [status.state for status in pool.statuses()]


async def test_routes_to_the_replica_with_fewest_requests_in_flight(
    servers: tuple[FakeTGI, FakeTGI], clock: FakeClock
) -> None:
    a, b = servers
    held = asyncio.Event()
    a.enqueue(Script(reply="slow A", hang=held))
    async with make_pool([a.url, b.url], clock) as pool:
        assert isinstance(pool, TextGenerator)
        slow = asyncio.create_task(reply(pool))
        await a.wait_for_requests(1)
        assert [s.in_flight for s in pool.statuses()] == [1, 0]
        assert await reply(pool) == "from B"
        assert await reply(pool) == "from B"  # A is still busy
        held.set()
        assert await slow == "slow A"
        # Idle again: ties go to the replica picked longest ago, so both get traffic.
        answers = {await reply(pool), await reply(pool)}
    assert answers == {"from A", "from B"}
    assert [s.in_flight for s in pool.statuses()] == [0, 0]


@pytest.mark.parametrize(
    "failure",
    [TgiFailure.overloaded(), TgiFailure.unhealthy(), TgiFailure.generation()],
    ids=["429", "503", "424"],
)
async def test_fails_over_to_another_replica_and_delivers_the_request_once(
    servers: tuple[FakeTGI, FakeTGI], clock: FakeClock, failure: TgiFailure
) -> None:
    a, b = servers
    a.enqueue(Script(failure=failure))
    async with make_pool([a.url, b.url], clock) as pool:
        assert await reply(pool, "<human>: only once\n<bot>:") == "from B"
        [status_a, status_b] = pool.statuses()
    assert [r.body["inputs"] for r in b.generation_requests()] == ["<human>: only once\n<bot>:"]
    assert len(a.generation_requests()) == 1
    assert status_a.state == ReplicaState.BACKED_OFF and status_a.consecutive_failures == 1
    assert status_a.last_error is not None and failure.error in status_a.last_error
    assert status_b.state == ReplicaState.HEALTHY


async def test_fails_over_from_a_replica_that_refuses_connections(
    servers: tuple[FakeTGI, FakeTGI], clock: FakeClock
) -> None:
    _, b = servers
    async with make_pool([dead_url(), b.url], clock) as pool:
        assert await reply(pool) == "from B"
        last_error = pool.statuses()[0].last_error
    assert last_error is not None and last_error.startswith("ReplicaUnreachable")


async def test_a_backed_off_replica_is_skipped_until_its_backoff_ends(
    servers: tuple[FakeTGI, FakeTGI], clock: FakeClock
) -> None:
    a, b = servers
    a.enqueue(Script(failure=TgiFailure.overloaded()))
    async with make_pool([a.url, b.url], clock) as pool:
        await reply(pool)
        retry_in = pool.statuses()[0].retry_in
        assert 0.5 <= retry_in <= 1.0  # first failure: half to all of backoff_initial
        for _ in range(3):
            assert await reply(pool) == "from B"
        assert len(a.generation_requests()) == 1
        clock.now += retry_in
        assert states(pool) == [ReplicaState.HEALTHY, ReplicaState.HEALTHY]
        assert await reply(pool) == "from A"


async def test_a_request_waits_for_a_backed_off_replica_within_max_wait(clock: FakeClock) -> None:
    async with FakeTGI(default=Script(reply="patience")) as only:
        only.enqueue(Script(failure=TgiFailure.overloaded()))
        policy = PoolPolicy(max_failures=3, backoff_initial=1.0, max_wait=5.0)
        async with make_pool([only.url], clock, policy) as pool:
            # The only replica was busy: the same request asks it again once its backoff ends.
            assert await reply(pool) == "patience"
    assert len(clock.slept) == 1 and 0.5 <= clock.slept[0] <= 1.0
    assert len(only.generation_requests()) == 2


async def test_a_replica_that_broke_is_not_asked_again_for_the_same_request(
    clock: FakeClock,
) -> None:
    async with FakeTGI(default=Script(reply="later")) as only:
        only.enqueue(Script(failure=TgiFailure.unhealthy()))
        policy = PoolPolicy(max_failures=3, backoff_initial=1.0, max_wait=5.0)
        async with make_pool([only.url], clock, policy) as pool:
            with pytest.raises(NoReplicaAvailable) as caught:
                await reply(pool)
            assert not caught.value.busy
    assert len(only.generation_requests()) == 1


async def test_replica_out_of_service_after_repeated_failures_and_back_after_a_probe(
    servers: tuple[FakeTGI, FakeTGI], clock: FakeClock
) -> None:
    a, b = servers
    a.enqueue(Script(failure=TgiFailure.unhealthy()), Script(failure=TgiFailure.unhealthy()))
    async with make_pool([a.url, b.url], clock) as pool:
        assert await reply(pool) == "from B"
        clock.now += 60  # backoff over: A is tried again and fails again
        assert await reply(pool) == "from B"
        assert states(pool) == [ReplicaState.OUT_OF_SERVICE, ReplicaState.HEALTHY]
        clock.now += 3600
        for _ in range(3):
            assert await reply(pool) == "from B"
        assert len(a.generation_requests()) == 2

        a.healthy = False
        assert await pool.probe() == []
        assert states(pool)[0] == ReplicaState.OUT_OF_SERVICE
        a.healthy = True
        assert await pool.probe() == [a.url]
        assert pool.statuses()[0].state == ReplicaState.HEALTHY
        assert pool.statuses()[0].consecutive_failures == 0
        assert {await reply(pool), await reply(pool)} == {"from A", "from B"}


async def test_background_probe_checks_out_of_service_replicas_periodically(
    clock: FakeClock,
) -> None:
    async with FakeTGI(healthy=False) as a:
        a.enqueue(Script(failure=TgiFailure.unhealthy()))
        policy = PoolPolicy(max_failures=1, probe_interval=0.01)
        async with make_pool([a.url], clock, policy) as pool:
            with pytest.raises(NoReplicaAvailable):
                await reply(pool)
            await a.wait_for_requests(2, path="/health")
            assert states(pool) == [ReplicaState.OUT_OF_SERVICE]


async def test_stream_broken_after_the_first_token_is_not_retried(
    servers: tuple[FakeTGI, FakeTGI], clock: FakeClock
) -> None:
    a, b = servers
    a.enqueue(Script(reply="partial answer here", drop_after=2))
    async with make_pool([a.url, b.url], clock) as pool:
        shown: list[str] = []
        with pytest.raises(StreamInterrupted) as caught:
            async for token in pool.stream("x", GenerationParams()):
                shown.append(token.text)
        assert pool.statuses()[0].consecutive_failures == 1
    assert "".join(shown) == "partial answer"
    assert caught.value.delivered_chars == len("partial answer")
    assert b.generation_requests() == []


async def test_validation_error_is_not_retried(
    servers: tuple[FakeTGI, FakeTGI], clock: FakeClock
) -> None:
    a, b = servers
    a.enqueue(Script(failure=TgiFailure.validation()))
    async with make_pool([a.url, b.url], clock) as pool:
        with pytest.raises(ValidationError):
            await reply(pool)
        assert states(pool) == [ReplicaState.HEALTHY, ReplicaState.HEALTHY]
    assert b.generation_requests() == []


async def test_all_replicas_failing_raises_no_replica_available(
    servers: tuple[FakeTGI, FakeTGI], clock: FakeClock
) -> None:
    a, b = servers
    a.enqueue(Script(failure=TgiFailure.overloaded()))
    b.enqueue(Script(failure=TgiFailure.unhealthy()))
    async with make_pool([a.url, b.url], clock) as pool:
        with pytest.raises(NoReplicaAvailable) as caught:
            await reply(pool)
        assert isinstance(caught.value.__cause__, UnhealthyError)
        assert caught.value.retryable
        # Both backed off now: the next request finds nobody (max_wait is 0 here).
        with pytest.raises(NoReplicaAvailable, match="backed_off"):
            await reply(pool)
    assert len(a.generation_requests()) == len(b.generation_requests()) == 1


async def test_all_replicas_overloaded_is_also_no_replica_available(
    servers: tuple[FakeTGI, FakeTGI], clock: FakeClock
) -> None:
    a, b = servers
    a.enqueue(Script(failure=TgiFailure.overloaded()))
    b.enqueue(Script(failure=TgiFailure.overloaded()))
    async with make_pool([a.url, b.url], clock) as pool:
        with pytest.raises(NoReplicaAvailable) as caught:
            await reply(pool)
    assert isinstance(caught.value.__cause__, OverloadedError)


async def test_info_and_tokenize_come_from_a_replica_that_answers(clock: FakeClock) -> None:
    async with AsyncExitStack() as stack:
        b = await stack.enter_async_context(FakeTGI())
        pool = await stack.enter_async_context(make_pool([dead_url(), b.url], clock))
        assert (await pool.info()).max_input_tokens == 1024
        assert await pool.tokenize("a b") is not None
        assert pool.statuses()[0].state == ReplicaState.HEALTHY  # facts calls do not back off


async def test_info_with_every_replica_down_raises_no_replica_available(clock: FakeClock) -> None:
    async with make_pool([dead_url()], clock) as pool:
        with pytest.raises(NoReplicaAvailable):
            await pool.info()


def test_a_pool_needs_replicas() -> None:
    with pytest.raises(ConfigurationError):
        ReplicaPool([])


async def test_from_urls_builds_tgi_replicas(servers: tuple[FakeTGI, FakeTGI]) -> None:
    a, b = servers
    async with ReplicaPool.from_urls([a.url, b.url]) as pool:
        assert [s.url for s in pool.statuses()] == [a.url, b.url]
        assert await reply(pool) in {"from A", "from B"}
