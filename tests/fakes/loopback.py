"""Serves an aiohttp application on 127.0.0.1 with a free port: the base of every protocol fake."""

from __future__ import annotations

from aiohttp import web


class LoopbackServer:
    """Starts and stops one aiohttp application on loopback; `url` is set while it runs.

    `handler_cancellation` makes a client that disconnects cancel its handler, the way real
    servers drop work for a client that left.
    """

    def __init__(self, app: web.Application, *, handler_cancellation: bool = False) -> None:
        self._runner = web.AppRunner(
            app, handler_cancellation=handler_cancellation, access_log=None, shutdown_timeout=0.5
        )
        self.url = ""

    async def start(self) -> str:
        """Listen on a free port; returns the base URL."""
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        await self._runner.cleanup()
        self.url = ""
