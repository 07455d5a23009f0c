"""Store fixtures: each contract test runs once on MemoryStore and once on RedisStore."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from core.store.base import Store
from core.store.keys import StoreKeys
from core.store.memory import MemoryStore
from core.store.redis import RedisStore

FEEDBACK_TTL_SECONDS = 3600

Presence = Callable[[], Awaitable[bool]]


class ManualClock:
    """A clock that moves only when a test says so."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class StoreHarness(ABC):
    """A store under test plus the implementation-specific way to observe expiry."""

    def __init__(self, store: Store, keys: StoreKeys) -> None:
        self.store = store
        self.keys = keys

    @abstractmethod
    async def assert_expires_after(self, key: str, ttl_seconds: int, present: Presence) -> None:
        """Assert the record stored under `key` (seen through `present`) lives `ttl_seconds`."""


class MemoryHarness(StoreHarness):
    """Expiry is observed by moving the injected clock past the TTL."""

    def __init__(self, namespace: str) -> None:
        self.clock = ManualClock()
        store = MemoryStore(
            namespace=namespace, clock=self.clock, feedback_ttl_seconds=FEEDBACK_TTL_SECONDS
        )
        super().__init__(store, StoreKeys(namespace))

    async def assert_expires_after(self, key: str, ttl_seconds: int, present: Presence) -> None:
        assert await present()
        self.clock.advance(ttl_seconds - 0.5)
        assert await present(), "the record expired before its TTL"
        self.clock.advance(1.0)
        assert not await present(), "the record outlived its TTL"


class RedisHarness(StoreHarness):
    """Expiry is observed by asking Redis for the key's remaining time to live."""

    def __init__(self, store: RedisStore, keys: StoreKeys, client: aioredis.Redis) -> None:
        super().__init__(store, keys)
        self.client = client

    async def assert_expires_after(self, key: str, ttl_seconds: int, present: Presence) -> None:
        assert await present()
        remaining_ms = await self.client.pttl(key)
        # A little time passes between the write and this read; never more than a second here.
        assert (ttl_seconds - 1) * 1000 < remaining_ms <= ttl_seconds * 1000


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A plain client for reading the raw keys the store wrote."""
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def redis_store(redis_url: str, redis_namespace: str) -> AsyncIterator[RedisStore]:
    async with RedisStore(
        redis_url, namespace=redis_namespace, feedback_ttl_seconds=FEEDBACK_TTL_SECONDS
    ) as store:
        yield store


@pytest.fixture(params=["memory", "redis"])
async def harness(
    request: pytest.FixtureRequest, redis_namespace: str, redis_url: str
) -> AsyncIterator[StoreHarness]:
    """The same contract, once per implementation."""
    if request.param == "memory":
        memory = MemoryHarness(redis_namespace)
        async with memory.store:
            yield memory
        return
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    store = RedisStore(
        redis_url, namespace=redis_namespace, feedback_ttl_seconds=FEEDBACK_TTL_SECONDS
    )
    try:
        async with store:
            yield RedisHarness(store, StoreKeys(redis_namespace), client)
    finally:
        await client.aclose()
