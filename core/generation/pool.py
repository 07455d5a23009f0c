"""A cluster of TGI replicas as one `TextGenerator`: least-loaded routing, failover, health probes.

Each request goes to the available replica with the fewest requests in flight, and never beyond
the number of requests a replica says it takes at once (`max_concurrent_requests` in /info).
When every available replica is full, requests wait in arrival order (up to `queue_limit`
requests, each for at most `queue_timeout` seconds).

A replica that fails before the first token (429, a slow first token, 503, 424, connection
refused) is backed off for a jittered, growing time and the same request goes to another
replica, or back to a busy one once its backoff ends (within `max_wait`). Only faults (refused connections, 5xx, broken streams) count towards taking it out of
service: after `max_failures` in a row it waits for a /health probe to pass. Busy is not dead.
A 422 is never retried: the same request would be rejected anywhere. Once a token has been
yielded a broken stream is not retried (that would show the user a second, different answer):
it raises `StreamInterrupted` with the text delivered so far.

When no replica can take a request, the pool raises `NoReplicaAvailable` (chained to the last
replica's error), with `busy` saying whether replicas are at capacity or out of service.

A `ReplicaObserver` hears, per replica, the time to each stream's first token, each stream's
total time, and every failed generation request by kind (the bots turn these into metrics).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, aclosing
from dataclasses import dataclass, field
from typing import Protocol, Self, runtime_checkable

from core.errors import (
    ConfigurationError,
    GenerationError,
    NoReplicaAvailable,
    OverloadedError,
    ValidationError,
)
from core.generation.base import GenerationParams, ModelInfo, TextGenerator, Token
from core.generation.health import JitteredBackoff, ReplicaHealth, ReplicaState, is_fault
from core.generation.observer import NoObserver, ReplicaObserver, error_kind
from core.generation.streaming import broken_stream
from core.generation.tgi import TgiGenerator
from core.generation.wait_line import LineFull, WaitLine

logger = logging.getLogger(__name__)


@runtime_checkable
class Replica(TextGenerator, Protocol):
    """A backend the pool can route to: a `TextGenerator` with a URL and a health check.

    A stream that breaks after its first token raises `StreamInterrupted` with the text it
    delivered, as every `core.generation.streaming.StreamingBackend` does.
    """

    url: str

    async def health(self) -> bool: ...


@dataclass(frozen=True)
class PoolPolicy:
    """How the pool treats failing and busy replicas (bots/settings.py refers to these defaults).

    `max_wait` is how long a request may wait for a backed-off replica to become available when
    none is available now (replicas out of service are never waited for). `queue_limit` and
    `queue_timeout` bound the line of requests waiting while every available replica is full.
    """

    max_failures: int = 3
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    probe_interval: float = 10.0
    max_wait: float = 10.0
    queue_limit: int = 1000
    queue_timeout: float = 60.0


@dataclass(frozen=True)
class ReplicaStatus:
    """One replica as `bloombridge doctor` shows it."""

    url: str
    state: ReplicaState
    in_flight: int
    max_in_flight: int | None
    consecutive_failures: int
    retry_in: float
    last_error: str | None


@dataclass
class _Request:
    """One request's way through the pool: replicas it may not ask again, what went wrong,
    when its wait in line ends, and how long it may still wait for backoffs to end."""

    queue_due: float
    backoff_budget: float
    tried: set[int] = field(default_factory=set)
    failures: list[GenerationError] = field(default_factory=list)


@dataclass
class _Slot:
    replica: Replica
    health: ReplicaHealth
    in_flight: int = 0
    last_picked: int = 0
    max_in_flight: int | None = None  # from the replica's /info; None: not known, no limit

    @property
    def has_room(self) -> bool:
        return self.max_in_flight is None or self.in_flight < self.max_in_flight


class ReplicaPool:
    """Several replicas behind the `TextGenerator` protocol; an async context manager.

    `clock`, `sleep` and `rng` are injectable so tests can drive backoff without waiting;
    `clock` also times the streams `observer` hears of.
    """

    def __init__(
        self,
        replicas: Sequence[Replica],
        *,
        policy: PoolPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        observer: ReplicaObserver | None = None,
    ) -> None:
        if not replicas:
            raise ConfigurationError("a replica pool needs at least one replica URL")
        self.policy = policy or PoolPolicy()
        backoff = JitteredBackoff(self.policy.backoff_initial, self.policy.backoff_max, rng)
        self._slots = [
            _Slot(replica, ReplicaHealth(self.policy.max_failures, backoff, clock))
            for replica in replicas
        ]
        self._clock = clock
        self._sleep = sleep
        self._observer: ReplicaObserver = observer or NoObserver()
        self._picks = 0
        self._probe_task: asyncio.Task[None] | None = None
        self._line = WaitLine(self.policy.queue_limit)
        self._learning: asyncio.Task[None] | None = None
        self._resources = AsyncExitStack()

    @classmethod
    def from_urls(
        cls,
        urls: Sequence[str],
        *,
        replica_factory: Callable[[str], Replica] = TgiGenerator,
        policy: PoolPolicy | None = None,
        observer: ReplicaObserver | None = None,
    ) -> ReplicaPool:
        """A pool of TGI replicas; pass `functools.partial(TgiGenerator, ...)` to set timeouts."""
        return cls([replica_factory(url) for url in urls], policy=policy, observer=observer)

    async def __aenter__(self) -> Self:
        for slot in self._slots:
            # Replicas that are context managers build their clients now, not on first use.
            if isinstance(slot.replica, AbstractAsyncContextManager):
                await self._resources.enter_async_context(slot.replica)
        self._probe_task = asyncio.create_task(self._probe_forever(), name="replica-probe")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._probe_task is not None:
            self._probe_task.cancel()
            await asyncio.gather(self._probe_task, return_exceptions=True)
            self._probe_task = None
        if self._learning is not None:
            self._learning.cancel()
            await asyncio.gather(self._learning, return_exceptions=True)
        await self._resources.aclose()
        await asyncio.gather(*(slot.replica.aclose() for slot in self._slots))

    # --- generation ------------------------------------------------------------------------

    async def stream(self, prompt: str, params: GenerationParams) -> AsyncGenerator[Token, None]:
        await self._learn_limits()
        request = _Request(
            queue_due=asyncio.get_running_loop().time() + self.policy.queue_timeout,
            backoff_budget=self.policy.max_wait,
        )
        tried, failures = request.tried, request.failures
        while True:
            index = await self._choose(request)
            tried.add(index)
            slot = self._slots[index]
            url = slot.replica.url
            slot.in_flight += 1
            sent = self._clock()
            try:
                async with aclosing(slot.replica.stream(prompt, params)) as tokens:
                    try:
                        first = await anext(tokens)
                    except StopAsyncIteration:
                        slot.health.succeeded()
                        return
                    except ValidationError as exc:
                        self._observer.failed(url, error_kind(exc))
                        raise
                    except GenerationError as exc:
                        self._failed(slot, exc)
                        failures.append(exc)
                        if not is_fault(exc):
                            # Busy, not broken: once its backoff ends it may take this request.
                            tried.discard(index)
                        continue
                    slot.health.succeeded()
                    self._observer.first_token(url, self._clock() - sent)
                    last = first
                    broke = False
                    try:
                        yield first
                        async for token in tokens:
                            last = token
                            yield token
                    except GenerationError as exc:
                        broke = True
                        # The replica reports the text it delivered (StreamInterrupted): the
                        # pool keeps no copy of the reply.
                        error = broken_stream(exc, 0, url)
                        self._failed(slot, exc, reported=error)
                        raise error from exc
                    finally:
                        # Also when the reader stops early (a guard cut, a user who left).
                        if not broke:
                            finished = last.finish_reason is not None
                            self._observer.stream_ended(
                                url, self._clock() - sent, finished=finished
                            )
                    return
            finally:
                slot.in_flight -= 1
                self._line.wake_one()

    async def _choose(self, request: _Request) -> int:
        """The least-loaded available replica with room, not tried yet.

        Waits in line while every available replica is full, and for a backoff to end while
        none is available.
        """
        tried = request.tried
        woken = False
        while True:
            open_ = [
                i
                for i, slot in enumerate(self._slots)
                if i not in tried and not slot.health.out_of_service
            ]
            ready = [i for i in open_ if self._slots[i].health.retry_in == 0]
            roomy = [i for i in ready if self._slots[i].has_room]
            # Whoever waits in line goes first: a newcomer does not take the room it was woken for.
            if roomy and (woken or not self._line):
                # Ties go to the replica picked longest ago, so light load is spread too.
                index = min(
                    roomy, key=lambda i: (self._slots[i].in_flight, self._slots[i].last_picked)
                )
                self._picks += 1
                self._slots[index].last_picked = self._picks
                return index
            if ready:
                if roomy:
                    self._line.wake_one()  # room is free: make sure the line moves
                await self._wait_in_line(request.queue_due, front=woken)
                woken = True
                continue
            wait = min((self._slots[i].health.retry_in for i in open_), default=None)
            if wait is None or wait > request.backoff_budget:
                raise self._exhausted(request.failures)
            request.backoff_budget -= wait
            await self._sleep(wait)

    async def _wait_in_line(self, due: float, *, front: bool) -> None:
        try:
            await self._line.wait(due, front=front)
        except LineFull as exc:
            raise NoReplicaAvailable(f"every replica is busy and {exc}", busy=True) from exc
        except TimeoutError as exc:
            raise NoReplicaAvailable(
                f"every replica stayed busy for {self.policy.queue_timeout:g}s", busy=True
            ) from exc

    def _exhausted(self, failures: list[GenerationError]) -> NoReplicaAvailable:
        states = ", ".join(f"{s.replica.url} {s.health.state}" for s in self._slots)
        in_service = [s for s in self._slots if not s.health.out_of_service]
        if failures:
            busy = isinstance(failures[-1], OverloadedError)
        else:
            busy = any(s.health.busy for s in in_service)
        error = NoReplicaAvailable(f"no replica could take the request ({states})", busy=busy)
        if failures:
            error.__cause__ = failures[-1]
        return error

    def _failed(
        self, slot: _Slot, error: GenerationError, *, reported: GenerationError | None = None
    ) -> None:
        """Count `error` against the replica; the observer hears `reported` when given."""
        self._observer.failed(slot.replica.url, error_kind(reported or error))
        slot.health.failed(error)
        if slot.health.out_of_service:
            logger.warning(
                "replica %s out of service after %d faults in a row: %s",
                slot.replica.url,
                slot.health.faults,
                slot.health.last_error,
            )

    async def _learn_limits(self) -> None:
        """Ask every replica once how many requests it takes at once; shared by all callers."""
        if self._learning is None:
            self._learning = asyncio.create_task(self._ask_limits(), name="replica-limits")
        if not self._learning.done():
            await asyncio.shield(self._learning)

    async def _ask_limits(self) -> None:
        await asyncio.gather(*(self._ask_limit(slot) for slot in self._slots))

    async def _ask_limit(self, slot: _Slot) -> None:
        try:
            info = await slot.replica.info()
        except GenerationError:
            return  # asked again when a probe brings the replica back
        slot.max_in_flight = info.max_concurrent_requests
        limit = info.max_concurrent_requests
        logger.info(
            "replica %s takes %s requests at once (its /info)",
            slot.replica.url,
            "any number of" if limit is None else limit,
        )

    # --- model facts -----------------------------------------------------------------------

    def _by_preference(self) -> list[_Slot]:
        """Replicas in service, available ones first, least loaded first."""
        usable = [s for s in self._slots if not s.health.out_of_service]
        return sorted(usable, key=lambda s: (s.health.retry_in > 0, s.in_flight))

    async def info(self) -> ModelInfo:
        await self._learn_limits()
        failures: list[GenerationError] = []
        for slot in self._by_preference():
            try:
                return await slot.replica.info()
            except GenerationError as exc:
                failures.append(exc)
        raise self._exhausted(failures)

    async def tokenize(self, text: str) -> Sequence[int] | None:
        failures: list[GenerationError] = []
        for slot in self._by_preference():
            try:
                return await slot.replica.tokenize(text)
            except GenerationError as exc:
                failures.append(exc)
        raise self._exhausted(failures)

    # --- health ----------------------------------------------------------------------------

    async def health(self) -> bool:
        """Whether at least one replica answers /health now (the bot's readiness)."""
        results = await asyncio.gather(*(slot.replica.health() for slot in self._slots))
        return any(results)

    async def probe(self) -> list[str]:
        """Check /health of every replica out of service; returns the URLs brought back."""
        down = [slot for slot in self._slots if slot.health.out_of_service]
        results = await asyncio.gather(*(slot.replica.health() for slot in down))
        restored = []
        for slot, healthy in zip(down, results, strict=True):
            if healthy:
                slot.health.restored()
                await self._ask_limit(slot)
                self._line.wake_one()
                restored.append(slot.replica.url)
                logger.info(
                    "replica %s passed its health probe and is back in service", slot.replica.url
                )
        return restored

    async def _probe_forever(self) -> None:
        while True:
            await asyncio.sleep(self.policy.probe_interval)
            try:
                await self.probe()
            except Exception:
                logger.exception("replica health probe failed")

    @property
    def waiting(self) -> int:
        """Requests waiting in line for a replica with room."""
        return len(self._line)

    def statuses(self) -> list[ReplicaStatus]:
        return [
            ReplicaStatus(
                url=slot.replica.url,
                state=slot.health.state,
                in_flight=slot.in_flight,
                max_in_flight=slot.max_in_flight,
                consecutive_failures=slot.health.failures,
                retry_in=slot.health.retry_in,
                last_error=slot.health.last_error,
            )
            for slot in self._slots
        ]
