"""The Discord calls that show one reply: channel messages, or a slash command's response.

Every send and edit pings nobody (`allowed_mentions` empty, no ping of the replied-to
author), whatever the model wrote. A 429 surfaces as `adapters.pacer.RateLimited` for the
pacer to wait out (see `adapters.discord.routing`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import discord

from adapters.discord.client import NO_PINGS
from adapters.discord.feedback import feedback_view
from adapters.markdown import RenderedMessage
from adapters.pacer import RateLimited
from core.errors import PlatformError
from core.messages import Reply

T = TypeVar("T")


def translate_error(error: Exception, action: str) -> PlatformError:
    """The bloombridge error for a failed Discord call (no token or URL ever appears in it)."""
    if isinstance(error, discord.RateLimited):
        return RateLimited(f"{action}: rate limited by Discord", retry_after=error.retry_after)
    if isinstance(error, discord.HTTPException):
        return PlatformError(f"{action} failed: HTTP {error.status} {error.text}".rstrip())
    return PlatformError(f"{action} failed: {type(error).__name__}")


async def call_discord(action: str, call: Callable[[], Awaitable[T]]) -> T:
    """Run one discord.py call, translating its errors at the boundary."""
    try:
        return await call()
    except (discord.DiscordException, aiohttp.ClientError, TimeoutError) as exc:
        raise translate_error(exc, action) from exc


def _view_argument(final: Reply | None) -> dict[str, Any]:
    view = feedback_view(final)
    return {} if view is None else {"view": view}


class ChannelSink:
    """One reply's messages in a channel, thread or DM (implements `MessageSink`).

    The first message replies to the user's message (without pinging its author) when
    `reply_to` is set.
    """

    def __init__(
        self, client: discord.Client, *, channel_id: int, reply_to: int | None = None
    ) -> None:
        self._channel = client.get_partial_messageable(channel_id)
        self._reply_to = reply_to

    async def typing(self) -> None:
        """Show "typing…" (Discord clears it after ten seconds or at the bot's next message)."""
        channel = self._channel

        async def send_typing() -> None:
            await channel.typing()

        await call_discord("typing", send_typing)

    async def post(self, message: RenderedMessage, *, final: Reply | None) -> str:
        reply_to, self._reply_to = self._reply_to, None  # only the first message replies
        reference = (
            None
            if reply_to is None
            else self._channel.get_partial_message(reply_to).to_reference(fail_if_not_exists=False)
        )

        async def send() -> discord.Message:
            if reference is None:
                return await self._channel.send(
                    message.text, allowed_mentions=NO_PINGS, **_view_argument(final)
                )
            return await self._channel.send(
                message.text,
                allowed_mentions=NO_PINGS,
                reference=reference,
                mention_author=False,
                **_view_argument(final),
            )

        sent = await call_discord("sending a message", send)
        return str(sent.id)

    async def update(
        self, message_id: str, message: RenderedMessage, *, final: Reply | None
    ) -> None:
        partial = self._channel.get_partial_message(int(message_id))
        await call_discord(
            "editing a message",
            lambda: partial.edit(
                content=message.text, allowed_mentions=NO_PINGS, **_view_argument(final)
            ),
        )

    async def remove(self, message_id: str) -> None:
        partial = self._channel.get_partial_message(int(message_id))
        await call_discord("deleting a message", partial.delete)

    async def preview(self, index: int, message: RenderedMessage) -> bool:
        return False  # Discord has no message drafts


# Discord's alias, in an interaction webhook's message routes, for the deferred response.
# discord.py types these message ids as int and puts them in the URL as they are.
ORIGINAL: Any = "@original"


class InteractionSink:
    """A slash command's answer: the deferred response is the first message, follow-ups the rest.

    Everything goes through the interaction's webhook (application id and interaction
    token): `interaction.followup` in the process that received the command, or
    `discord.Webhook.partial` in a queue worker, the same REST routes either way. The
    "thinking…" state Discord shows after the deferral is the waiting signal.
    """

    def __init__(self, webhook: discord.Webhook) -> None:
        self._webhook = webhook
        self._original_id: str | None = None

    async def post(self, message: RenderedMessage, *, final: Reply | None) -> str:
        webhook = self._webhook
        if self._original_id is None:
            original = await call_discord(
                "answering a command",
                lambda: webhook.edit_message(
                    ORIGINAL,
                    content=message.text,
                    allowed_mentions=NO_PINGS,
                    **_view_argument(final),
                ),
            )
            self._original_id = str(original.id)
            return self._original_id
        sent = await call_discord(
            "sending a follow-up",
            lambda: webhook.send(
                message.text, allowed_mentions=NO_PINGS, wait=True, **_view_argument(final)
            ),
        )
        return str(sent.id)

    async def update(
        self, message_id: str, message: RenderedMessage, *, final: Reply | None
    ) -> None:
        webhook = self._webhook
        await call_discord(
            "editing a command answer",
            lambda: webhook.edit_message(
                self._route_id(message_id),
                content=message.text,
                allowed_mentions=NO_PINGS,
                **_view_argument(final),
            ),
        )

    async def remove(self, message_id: str) -> None:
        webhook = self._webhook
        await call_discord(
            "deleting a command answer",
            lambda: webhook.delete_message(self._route_id(message_id)),
        )

    def _route_id(self, message_id: str) -> Any:
        """The id a message route takes: the deferred response by its alias, others by id."""
        return ORIGINAL if message_id == self._original_id else int(message_id)

    async def preview(self, index: int, message: RenderedMessage) -> bool:
        return False
