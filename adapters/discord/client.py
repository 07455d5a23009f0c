"""The discord.py Client the adapter runs: smallest intents, routed URLs, raw gateway events."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import discord
from discord.state import ConnectionState

from adapters.discord.feedback import FeedbackCallback
from adapters.discord.routing import DiscordEndpoints, RoutedHTTPClient, flood_wait_trace

logger = logging.getLogger(__name__)

# Pings nobody: no @everyone/@here, no users, no roles, no ping of the replied-to author.
NO_PINGS = discord.AllowedMentions.none()

RawEventHandler = Callable[[str, Mapping[str, Any]], None]
"""Receives (event name, `d` payload) of a gateway dispatch the bridge reads itself."""

InteractionSeen = Callable[[discord.Interaction[Any]], None]
"""Told of each interaction as discord.py parses it, before its handlers run."""


def bridge_intents(*, message_content: bool) -> discord.Intents:
    """The smallest intents that work.

    Guilds (channels, threads, the bot's role), guild and DM messages; the privileged
    message-content intent only when the operator enabled it to read whole channels.
    Without it Discord still sends the text of DMs and of messages mentioning the bot.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = message_content
    return intents


class BridgeClient(discord.Client):
    """A discord.py Client whose REST and gateway traffic goes to `endpoints`.

    Gateway dispatches named in `raw_events` are handed to `on_raw_event` as the payload
    Discord sent (read from discord.py's debug event `socket_raw_receive`), so the bridge
    normalizes the payload itself; everything else (interactions, views, caches) is
    discord.py's.
    """

    def __init__(
        self,
        *,
        endpoints: DiscordEndpoints,
        intents: discord.Intents,
        raw_events: frozenset[str],
        on_raw_event: RawEventHandler,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        self._endpoints = endpoints
        self._raw_events = raw_events
        self._on_raw_event = on_raw_event
        # Called by FeedbackButton when a 👍/👎 is pressed (set by the adapter).
        self.on_feedback: FeedbackCallback | None = None
        self.on_interaction_seen: InteractionSeen | None = None
        super().__init__(
            intents=intents,
            allowed_mentions=NO_PINGS,
            enable_debug_events=True,
            max_messages=None,
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.none(),
            guild_ready_timeout=guild_ready_timeout,
        )

    def _get_state(self, **options: Any) -> ConnectionState[BridgeClient]:
        # discord.py builds its HTTP client in Client.__init__ and hands it to the connection
        # state here (AutoShardedClient overrides this hook too): the one place to give this
        # client, and only this one, an HTTP client that knows the configured endpoints.
        self.http = RoutedHTTPClient(
            self.loop, endpoints=self._endpoints, http_trace=flood_wait_trace()
        )
        return super()._get_state(**options)

    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        # Called synchronously while discord.py reads a frame, so the bridge learns of its
        # work before any handler task runs (which lets `drain` wait for exactly that work).
        super().dispatch(event, *args, **kwargs)
        if event == "socket_raw_receive" and args:
            self._read_raw(args[0])
        elif event == "interaction" and args and self.on_interaction_seen is not None:
            self.on_interaction_seen(args[0])

    def _read_raw(self, message: str | bytes) -> None:
        text = message.decode() if isinstance(message, bytes) else message
        # Most frames are other events: skip them before paying for a second JSON parse.
        if not any(name in text for name in self._raw_events):
            return
        frame = json.loads(text)
        event = frame.get("t")
        if frame.get("op") == 0 and event in self._raw_events:
            self._on_raw_event(str(event), frame.get("d") or {})
