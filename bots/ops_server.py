"""A bot process's operations endpoints over HTTP: /healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Self

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

logger = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[str | None]]
"""Answers None when its part is ready, else one sentence saying what is wrong."""

# A check slower than this counts as not ready: a probe must answer before the kubelet gives up.
DEFAULT_CHECK_TIMEOUT_SECONDS = 2.0


class OpsServer:
    """Serves liveness, readiness and Prometheus metrics on `listen:port` while entered.

    `/healthz` answers 200 while the process runs. `/readyz` runs every check at once and
    answers 200 when all pass, else 503 with each failing part and its reason (JSON).
    `/metrics` is `registry` in Prometheus' text format. Port 0 picks a free port (`port`).
    """

    def __init__(
        self,
        *,
        listen: str,
        port: int,
        registry: CollectorRegistry,
        checks: Mapping[str, ReadinessCheck],
        check_timeout: float = DEFAULT_CHECK_TIMEOUT_SECONDS,
    ) -> None:
        self._listen = listen
        self._requested_port = port
        self._registry = registry
        self._checks = dict(checks)
        self._check_timeout = check_timeout
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        self.port = 0

    def add_check(self, name: str, check: ReadinessCheck) -> None:
        """Add a readiness check (e.g. the platform connection, known once it exists)."""
        self._checks[name] = check

    async def __aenter__(self) -> Self:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._listen, self._requested_port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        logger.info("operations endpoints on %s:%d", self._listen, self.port)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._runner.cleanup()

    async def readiness(self) -> dict[str, str | None]:
        """Every check's answer by name: None when ready, else the reason."""
        names = list(self._checks)
        answers = await asyncio.gather(*(self._run_check(name) for name in names))
        return dict(zip(names, answers, strict=True))

    async def _run_check(self, name: str) -> str | None:
        try:
            async with asyncio.timeout(self._check_timeout):
                return await self._checks[name]()
        except TimeoutError:
            return f"no answer within {self._check_timeout:g} s"
        except Exception as exc:  # a failing check means "not ready", never a 500
            logger.debug("readiness check %s failed", name, exc_info=True)
            return f"check failed: {type(exc).__name__}"

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        answers = await self.readiness()
        ready = all(reason is None for reason in answers.values())
        body = {
            "ready": ready,
            "checks": {name: reason or "ok" for name, reason in answers.items()},
        }
        return web.Response(
            text=json.dumps(body) + "\n",
            status=200 if ready else 503,
            content_type="application/json",
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        payload = generate_latest(self._registry)
        return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})
