"""Points one discord.py client at configured REST and gateway URLs and hands 429s to the pacer.

discord.py has no public setting for either address: REST URLs are built from the class
attribute `discord.http.Route.BASE` and an unsharded client opens the class attribute
`DiscordWebSocket.DEFAULT_GATEWAY`; changing those would redirect every client in the
process. Instead, each bridge client gets its own `RoutedHTTPClient`, a subclass of
discord.py's HTTP client that rewrites the URL of each request it makes and of the gateway
it opens, and interaction callbacks (which discord.py sends through its webhook adapter,
chosen by the `async_context` context variable) go through a `RoutedWebhookAdapter` set
only in the context the client runs in.

429 answers are the pacer's job, not discord.py's: `flood_wait_trace` turns a 429 with a
`retry_after` into `FloodWait` before discord.py would sleep and retry, so the pacer pauses
only that channel, keeps merging the newest text, and waits on its injected clock.
discord.py still honours `X-RateLimit-Remaining: 0` by waiting for the bucket to reset
before the next call, which avoids 429s rather than absorbing them.
"""

from __future__ import annotations

import contextvars
import json
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

DEFAULT_API_URL = "https://discord.com/api/v10"
_DEFAULT_GATEWAY = DiscordWebSocket.DEFAULT_GATEWAY.with_query(None)


@dataclass(frozen=True)
class DiscordEndpoints:
    """Where the bot talks to Discord: the REST base (with the API version) and the gateway.

    `gateway_url` None means the gateway discord.py knows; when set, the bot connects there
    instead, with the same query discord.py gives Discord's gateway.
    """

    api_url: str = DEFAULT_API_URL
    gateway_url: str | None = None


class FloodWait(discord.RateLimited):
    """Discord answered 429: wait `retry_after` seconds before changing that channel again."""


def _rebase(url: str, api_url: str) -> str:
    default = Route.BASE
    if api_url == default or not url.startswith(default):
        return url
    return api_url + url[len(default) :]


class RoutedHTTPClient(HTTPClient):
    """discord.py's HTTP client for one bot, sending every REST call and the gateway elsewhere."""

    def __init__(self, *args: Any, endpoints: DiscordEndpoints, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.endpoints = endpoints

    async def request(self, route: Route, **kwargs: Any) -> Any:
        route.url = _rebase(route.url, self.endpoints.api_url)
        return await super().request(route, **kwargs)

    async def ws_connect(self, url: str, *, compress: int = 0) -> aiohttp.ClientWebSocketResponse:
        return await super().ws_connect(self.gateway_for(url), compress=compress)

    def gateway_for(self, url: str) -> str:
        """The URL to open for the gateway URL discord.py asked for.

        Only Discord's default gateway is replaced; its query (API version, encoding,
        transport compression) is kept, so the configured gateway is asked exactly what
        Discord would be. Resume URLs (from READY) and voice gateways are left alone.
        """
        configured = self.endpoints.gateway_url
        asked = yarl.URL(url)
        if configured is None or asked.with_query(None) != _DEFAULT_GATEWAY:
            return url
        return str(yarl.URL(configured).with_query(asked.query))


class RoutedWebhookAdapter(AsyncWebhookAdapter):
    """discord.py's webhook adapter (interaction callbacks, follow-ups) using the REST base."""

    def __init__(self, endpoints: DiscordEndpoints) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.endpoints = endpoints

    async def request(self, route: Route, session: aiohttp.ClientSession, **kwargs: Any) -> Any:
        route.url = _rebase(route.url, self.endpoints.api_url)
        return await super().request(route, session, **kwargs)


def routed_context(endpoints: DiscordEndpoints) -> contextvars.Context:
    """A context whose tasks send interaction responses through the configured REST base."""
    context = contextvars.copy_context()
    context.run(async_context.set, RoutedWebhookAdapter(endpoints))
    return context


async def _raise_flood_wait(
    session: aiohttp.ClientSession,
    trace_context: Any,
    params: aiohttp.TraceRequestEndParams,
) -> None:
    response = params.response
    # discord.py reads a 429 without `Via` (Cloudflare's ban) as an error: leave it so.
    if response.status != 429 or not response.headers.get("Via"):
        return
    try:
        body = json.loads(await response.read())
    except ValueError:
        return
    retry_after = body.get("retry_after") if isinstance(body, dict) else None
    if not isinstance(retry_after, int | float):
        return
    raise FloodWait(float(retry_after))


def flood_wait_trace() -> aiohttp.TraceConfig:
    """An aiohttp trace that raises FloodWait for Discord's 429 answers (see module docstring)."""
    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(_raise_flood_wait)
    return trace
