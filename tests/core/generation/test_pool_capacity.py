"""ReplicaPool under load: busy is not dead, limits from /info, a fair line, the right notice."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from core.dialog import DialogManager
from core.errors import NoReplicaAvailable
from core.generation.health import ReplicaState
from core.generation.pool import PoolPolicy, ReplicaPool
from core.generation.tgi import TgiGenerator
from core.messages import ConversationRef, FinishReason, IncomingMessage, Sender
from core.notices import notice
from core.store.memory import MemoryStore
from tests.core.generation.test_pool import FakeClock, reply
from tests.fakes.tgi import FakeInfo, FakeTGI, GenerateCall, Script, TgiFailure


def pool_of(
    urls: list[str], clock: FakeClock, policy: PoolPolicy, first_token_timeout: float = 5.0
) -> ReplicaPool:
    replicas = [TgiGenerator(url, first_token_timeout=first_token_timeout) for url in urls]
    return ReplicaPool(
        replicas, policy=policy, clock=clock, sleep=clock.sleep, rng=random.Random(3)
    )


async def until(condition: Callable[[], bool]) -> None:
    """Let other tasks run until `condition()` holds: a yield per check, never a timed wait."""
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - the pool has no event for its line length
            await asyncio.sleep(0)


async def test_a_replica_answering_slowly_is_backed_off_not_ejected() -> None:
    clock = FakeClock()
    first_token = asyncio.Event()
    async with FakeTGI(default=Script(reply="at last", hang=first_token)) as slow:
        policy = PoolPolicy(max_failures=2, probe_interval=3600, max_wait=0.0)
        async with pool_of([slow.url], clock, policy, first_token_timeout=0.1) as pool:
            for _ in range(4):  # twice as many slow answers as faults that would eject it
                with pytest.raises(NoReplicaAvailable) as caught:
                    await reply(pool)
                assert caught.value.busy
                [status] = pool.statuses()
                assert status.state is ReplicaState.BACKED_OFF
                clock.now += status.retry_in
            first_token.set()
            assert await reply(pool) == "at last"


async def test_repeated_429s_back_off_but_repeated_503s_eject() -> None:
    clock = FakeClock()
    async with FakeTGI() as busy, FakeTGI() as broken:
        busy.enqueue(*(Script(failure=TgiFailure.overloaded()) for _ in range(3)))
        broken.enqueue(*(Script(failure=TgiFailure.unhealthy()) for _ in range(3)))
        policy = PoolPolicy(max_failures=3, probe_interval=3600, max_wait=0.0)
        async with pool_of([busy.url, broken.url], clock, policy) as pool:
            for _ in range(3):
                with pytest.raises(NoReplicaAvailable):
                    await reply(pool)
                clock.now += 3600
            assert [s.state for s in pool.statuses()] == [
                ReplicaState.HEALTHY,
                ReplicaState.OUT_OF_SERVICE,
            ]


async def test_requests_beyond_max_concurrent_requests_wait_in_arrival_order() -> None:
    clock = FakeClock()
    holds = {name: asyncio.Event() for name in ("hold-1", "hold-2", "third")}

    def answer(call: GenerateCall) -> Script:
        return Script(reply=f"re {call.inputs}", hang=holds.get(call.inputs))

    info = FakeInfo(max_concurrent_requests=2)
    async with (
        FakeTGI(responder=answer, info=info) as tgi,
        pool_of([tgi.url], clock, PoolPolicy(probe_interval=3600)) as pool,
    ):
        held = [asyncio.create_task(reply(pool, name)) for name in ("hold-1", "hold-2")]
        await tgi.wait_for_requests(2)
        third = asyncio.create_task(reply(pool, "third"))
        await until(lambda: pool.waiting == 1)
        fourth = asyncio.create_task(reply(pool, "fourth"))
        await until(lambda: pool.waiting == 2)
        assert pool.statuses()[0].in_flight == 2
        assert pool.statuses()[0].max_in_flight == 2

        holds["hold-1"].set()
        await tgi.wait_for_requests(3)
        assert [r.body["inputs"] for r in tgi.generation_requests()][2:] == ["third"]
        assert pool.waiting == 1  # the fourth still waits for room
        holds["hold-2"].set()
        assert await fourth == "re fourth"
        holds["third"].set()
        assert await third == "re third"
        assert await asyncio.gather(*held) == ["re hold-1", "re hold-2"]


async def test_a_full_line_gets_the_busy_answer_at_once() -> None:
    clock = FakeClock()
    release = asyncio.Event()
    async with FakeTGI(
        default=Script(reply="ok", hang=release), info=FakeInfo(max_concurrent_requests=1)
    ) as tgi:
        policy = PoolPolicy(probe_interval=3600, queue_limit=1)
        async with pool_of([tgi.url], clock, policy) as pool:
            running = asyncio.create_task(reply(pool))
            await tgi.wait_for_requests(1)
            waiting = asyncio.create_task(reply(pool))
            await until(lambda: pool.waiting == 1)
            with pytest.raises(NoReplicaAvailable) as caught:
                await reply(pool)
            assert caught.value.busy
            release.set()
            assert list(await asyncio.gather(running, waiting)) == ["ok", "ok"]


async def test_every_replica_out_of_service_tells_the_user_the_model_is_unavailable() -> None:
    clock = FakeClock()
    async with FakeTGI() as tgi:
        tgi.enqueue(Script(failure=TgiFailure.unhealthy()))
        policy = PoolPolicy(max_failures=1, probe_interval=3600, max_wait=0.0)
        async with pool_of([tgi.url], clock, policy) as pool:
            dialog = DialogManager(generator=pool, store=MemoryStore())
            first = await dialog.handle(_message("1")).collect()
            assert pool.statuses()[0].state is ReplicaState.OUT_OF_SERVICE
            second = await dialog.handle(_message("2")).collect()
    for answer in [first, second]:
        assert answer.finish_reason is FinishReason.ERROR
        assert answer.notices == (notice("unavailable", "en"),)


async def test_every_replica_busy_tells_the_user_it_is_busy() -> None:
    clock = FakeClock()
    async with FakeTGI() as tgi:
        tgi.enqueue(Script(failure=TgiFailure.overloaded()))
        policy = PoolPolicy(probe_interval=3600, max_wait=0.0)
        async with pool_of([tgi.url], clock, policy) as pool:
            dialog = DialogManager(generator=pool, store=MemoryStore())
            answer = await dialog.handle(_message("1")).collect()
    assert answer.notices == (notice("overloaded", "en"),)


def _message(number: str) -> IncomingMessage:
    return IncomingMessage(
        id=number,
        conversation=ConversationRef("test", None, "c"),
        sender=Sender(id="u", locale_hint="en"),
        text="hello there",
        sent_at=datetime.now(UTC),
    )
