"""The store's Redis pool is bounded and makes calls wait for a connection instead of failing."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis.asyncio as aioredis

from core.store.redis import RedisStore
from core.store.redis_pool import DEFAULT_MAX_CONNECTIONS
from tests.redis_process import RedisProcess


async def until(condition: object) -> None:
    """Let other tasks run until `condition()` holds: a yield per check, never a timed wait."""
    assert callable(condition)
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 - redis-py's pool has no event to wait on
            await asyncio.sleep(0)


async def test_the_call_after_the_last_free_connection_waits_and_succeeds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="core.store.redis_pool")
    async with RedisProcess() as server:
        admin = aioredis.Redis.from_url(server.url)
        store = RedisStore(server.url, namespace="pool-test")
        pool = store.connection_pool
        try:
            # Writes are held by the server, so every call keeps its connection until unpaused.
            await admin.client_pause(20_000, all=False)
            calls = [
                asyncio.create_task(store.claim(f"event-{n}", 60))
                for n in range(DEFAULT_MAX_CONNECTIONS + 1)
            ]
            await until(lambda: pool.waiting == 1)
            assert len(pool._in_use_connections) == DEFAULT_MAX_CONNECTIONS
            await admin.client_unpause()
            assert all(await asyncio.gather(*calls))
        finally:
            await admin.client_unpause()
            await admin.aclose()
            await store.aclose()
    full = [r for r in caplog.records if "connection pool is full" in r.getMessage()]
    assert len(full) == 1
