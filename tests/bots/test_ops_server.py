"""The operations endpoints: liveness, readiness with reasons, and Prometheus metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from prometheus_client import CollectorRegistry, Counter

from bots.ops_server import OpsServer


class Switch:
    """A readiness check whose answer the test sets."""

    def __init__(self) -> None:
        self.reason: str | None = None

    async def __call__(self) -> str | None:
        return self.reason


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_healthz_answers_while_the_process_runs(http: aiohttp.ClientSession) -> None:
    async with (
        OpsServer(listen="127.0.0.1", port=0, registry=CollectorRegistry(), checks={}) as ops,
        http.get(f"http://127.0.0.1:{ops.port}/healthz") as response,
    ):
        assert response.status == 200
        assert await response.text() == "ok\n"


async def test_readyz_names_each_failing_part(http: aiohttp.ClientSession) -> None:
    store, model = Switch(), Switch()
    checks = {"store": store, "model": model}
    async with OpsServer(
        listen="127.0.0.1", port=0, registry=CollectorRegistry(), checks=checks
    ) as ops:
        url = f"http://127.0.0.1:{ops.port}/readyz"
        async with http.get(url) as response:
            assert response.status == 200
            assert await response.json() == {
                "ready": True,
                "checks": {"store": "ok", "model": "ok"},
            }
        model.reason = "no TGI replica answers /health"
        async with http.get(url) as response:
            assert response.status == 503
            body = await response.json()
        assert body == {
            "ready": False,
            "checks": {"store": "ok", "model": "no TGI replica answers /health"},
        }


async def test_a_hanging_or_raising_check_means_not_ready(http: aiohttp.ClientSession) -> None:
    never = asyncio.Event()

    async def hangs() -> str | None:
        await never.wait()
        return None

    async def raises() -> str | None:
        raise ConnectionError("refused")

    async with (
        OpsServer(
            listen="127.0.0.1",
            port=0,
            registry=CollectorRegistry(),
            checks={"slow": hangs, "broken": raises},
            check_timeout=0.05,
        ) as ops,
        http.get(f"http://127.0.0.1:{ops.port}/readyz") as response,
    ):
        assert response.status == 503
        body = await response.json()
    assert body["checks"] == {
        "slow": "no answer within 0.05 s",
        "broken": "check failed: ConnectionError",
    }


async def test_metrics_are_the_registry_in_prometheus_text(http: aiohttp.ClientSession) -> None:
    registry = CollectorRegistry()
    counter = Counter("bloombridge_test_events", "Events.", registry=registry)
    counter.inc(3)
    ops = OpsServer(listen="127.0.0.1", port=0, registry=registry, checks={})
    async with ops, http.get(f"http://127.0.0.1:{ops.port}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    assert "bloombridge_test_events_total 3.0" in text
