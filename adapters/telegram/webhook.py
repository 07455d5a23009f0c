"""A Telegram webhook that answers each POST only once its update was taken (ingress role).

python-telegram-bot's own webhook server answers 200 as soon as an update is queued, before
any handler runs, so Telegram never learns that an ingress could not queue it. This server
follows PTB's documented custom-webhook path instead: the update is built with
`Update.de_json` and processed by the application in the request, and the answer tells
Telegram its fate: 200 taken, 503 not taken (Telegram delivers it again later).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# An update is a few kilobytes (a message is at most 4096 characters); a webhook server
# would otherwise buffer large bodies before any check.
MAX_WEBHOOK_BODY_BYTES = 1 << 20


@dataclass(frozen=True)
class WebhookConfig:
    """Webhook mode: Telegram posts updates to `url`, which reaches `listen:port/path` here.

    Requests without the `secret_token` in X-Telegram-Bot-Api-Secret-Token are refused (403).
    A body over `max_body_bytes` is refused before it is read (the connection is closed), so
    unauthenticated posts cannot fill memory. The listener belongs behind a TLS proxy.
    """

    url: str
    secret_token: str
    listen: str = "127.0.0.1"
    port: int = 8443
    path: str = "telegram"
    max_body_bytes: int = MAX_WEBHOOK_BODY_BYTES

    def __repr__(self) -> str:
        return f"WebhookConfig(url={self.url!r}, listen={self.listen!r}, port={self.port})"


TakeUpdate = Callable[[dict[str, Any]], Awaitable[bool]]
"""Processes one update's JSON; True once it was taken, False when Telegram must retry."""


class ConfirmingWebhook:
    """Serves Telegram's webhook POSTs and answers each with the fate of its update.

    As PTB's server does: the secret token is required (403 without it), the body must be
    JSON (403 otherwise, 400 when it does not parse) and at most `max_body_bytes` (413).
    """

    def __init__(self, config: WebhookConfig, take: TakeUpdate) -> None:
        self._config = config
        self._take = take
        self._runner: web.AppRunner | None = None

    @property
    def running(self) -> bool:
        """True while the listener accepts POSTs."""
        return self._runner is not None

    async def start(self) -> None:
        """Listen on the configured address and path."""
        server = web.Application(client_max_size=self._config.max_body_bytes)
        server.router.add_post(f"/{self._config.path}", self._receive)
        runner = web.AppRunner(server, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._config.listen, self._config.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner

    async def stop(self) -> None:
        """Stop listening; requests still being answered are cut off after a second."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        secret = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(secret.encode(), self._config.secret_token.encode()):
            return web.Response(status=403, text="wrong or missing secret token")
        if request.content_type != "application/json":
            return web.Response(status=403, text="updates are JSON")
        try:
            data = json.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            raise
        except ValueError:
            return web.Response(status=400, text="the update is not JSON")
        if not isinstance(data, dict):
            return web.Response(status=400, text="the update is not a JSON object")
        try:
            taken = await self._take(data)
        except ValueError:
            return web.Response(status=400, text="not a Telegram update")
        if taken:
            return web.Response(status=200)
        logger.info("update %s not taken; Telegram will deliver it again", data.get("update_id"))
        return web.Response(status=503, text="the update could not be queued; retry")
