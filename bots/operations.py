"""A running bot's operations endpoints wired to its parts: platform, store, model and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from adapters.base import Adapter
from adapters.streaming_adapter import StreamingAdapter
from bots.ops_server import OpsServer, ReadinessCheck
from bots.settings import Settings
from core.errors import StoreError
from core.generation.base import ReportsHealth, TextGenerator
from core.metrics import Metrics
from core.store.base import Store


def platform_check(adapter: Adapter) -> ReadinessCheck:
    """Ready while the adapter's platform connection is up."""

    async def check() -> str | None:
        return None if adapter.connected else f"not connected to {adapter.platform}"

    return check


def store_check(store: Store) -> ReadinessCheck:
    """Ready while the conversation store answers a ping."""

    async def check() -> str | None:
        try:
            await store.ping()
        except StoreError as exc:
            # The class name only: a store error may quote an address an operator keeps private.
            return f"the conversation store does not answer ({type(exc).__name__})"
        return None

    return check


def model_check(generator: TextGenerator) -> ReadinessCheck:
    """Ready while the model server answers `/health` (any replica); an in-process model is."""

    async def check() -> str | None:
        if isinstance(generator, ReportsHealth) and not await generator.health():
            return "no model replica answers /health"
        return None

    return check


def count_rate_limit_waits(adapter: Adapter, metrics: Metrics) -> None:
    """Count every flood wait the adapter's pacer honours in `metrics`."""
    if isinstance(adapter, StreamingAdapter):
        waits = metrics.platform_rate_limit_waits.labels(platform=adapter.platform)
        adapter.delivery.gate.on_pause = lambda seconds: waits.inc()


@asynccontextmanager
async def operations(
    settings: Settings,
    *,
    metrics: Metrics,
    adapter: Adapter,
    store: Store,
    generator: TextGenerator | None,
) -> AsyncIterator[OpsServer | None]:
    """Serve /healthz, /readyz and /metrics while entered, when BLOOMBRIDGE_OPS_PORT is set.

    Without a generator (an ingress process: workers talk to the model) there is no model check.
    """
    count_rate_limit_waits(adapter, metrics)
    if settings.ops_port is None:
        yield None
        return
    checks = {"platform": platform_check(adapter), "store": store_check(store)}
    if generator is not None:
        checks["model"] = model_check(generator)
    server = OpsServer(
        listen=settings.ops_listen,
        port=settings.ops_port,
        registry=metrics.registry,
        checks=checks,
    )
    async with server:
        yield server
