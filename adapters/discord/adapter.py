"""The Discord adapter: discord.py 2.x on the gateway, replies streamed into channel messages."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import discord
from discord import app_commands
from discord.webhook.async_ import async_context

from adapters.base import ChatHandler
from adapters.capabilities import Capabilities
from adapters.discord.client import BridgeClient, bridge_intents
from adapters.discord.commands import COMMAND_NAMES, build_command_tree, sync_commands
from adapters.discord.feedback import FeedbackButton
from adapters.discord.options import DISCORD_CAPABILITIES, DiscordOptions
from adapters.discord.routing import DiscordEndpoints, RoutedWebhookAdapter, routed_context
from adapters.discord.sink import ChannelSink, InteractionSink, call_discord, translate_error
from adapters.discord.translate import (
    PLATFORM,
    BotIdentity,
    ChannelContext,
    CommandCall,
    InteractionFacts,
    command_message,
    conversation_for,
    interaction_webhook_of,
    message_place,
    to_feedback,
    to_incoming_message,
)
from adapters.discord.workload import Workload
from adapters.feedback import decode_vote, thanks
from adapters.intake import IntakeLimits
from adapters.markdown import PassthroughRenderer
from adapters.pacer import Clock
from adapters.streaming import ReplyTarget
from adapters.streaming_adapter import StreamingAdapter
from core.errors import BloombridgeError, ConfigurationError, PlatformError
from core.messages import IncomingMessage, PlaceKind

logger = logging.getLogger(__name__)

_THREAD_NAME_LENGTH = 100  # Discord's limit for thread names
_AUTHENTICATION_FAILED = 4004  # gateway close code for a bad token
_THREAD_EXISTS = 160004  # "A thread has already been created for this message"


def _facts(interaction: discord.Interaction[Any]) -> InteractionFacts:
    """What translate.py needs of an interaction discord.py parsed."""
    channel = interaction.channel
    parent = str(channel.parent_id) if isinstance(channel, discord.Thread) else None
    return InteractionFacts(
        interaction_id=str(interaction.id),
        user_id=str(interaction.user.id),
        user_name=interaction.user.display_name,
        locale=interaction.locale.value,
        guild_id=None if interaction.guild_id is None else str(interaction.guild_id),
        channel_id=str(interaction.channel_id),
        thread_parent_id=parent,
        created_at=interaction.created_at,
        application_id=str(interaction.application_id),
        token=interaction.token,
    )


class DiscordAdapter(StreamingAdapter):
    """Answers Discord mentions, replies, DMs and slash commands with streamed replies.

    `async with` it, then `run()`. Messages go to the shared intake (claimed by message
    id, ordered per conversation); slash commands by interaction id.
    """

    platform = PLATFORM

    def __init__(
        self,
        handler: ChatHandler,
        *,
        token: str,
        endpoints: DiscordEndpoints | None = None,
        options: DiscordOptions | None = None,
        capabilities: Capabilities = DISCORD_CAPABILITIES,
        clock: Clock | None = None,
        limits: IntakeLimits | None = None,
    ) -> None:
        super().__init__(
            handler,
            capabilities=capabilities,
            renderer=PassthroughRenderer(),  # Discord renders Markdown itself
            clock=clock,
            limits=limits,
        )
        self._token = token
        self._endpoints = endpoints or DiscordEndpoints()
        self.options = options or DiscordOptions()
        self._client: BridgeClient | None = None
        self._connection: asyncio.Task[None] | None = None
        self._work = Workload()
        self._interactions: dict[str, discord.Interaction[Any]] = {}
        self._in_new_thread: set[str] = set()
        self._stopped = asyncio.Event()
        self._sending_only = False

    def __repr__(self) -> str:
        return f"DiscordAdapter(api_url={self._endpoints.api_url!r})"

    @property
    def client(self) -> BridgeClient:
        """The running discord.py client."""
        if self._client is None:
            raise RuntimeError("the Discord adapter is not running")
        return self._client

    @property
    def connected(self) -> bool:
        client = self._client
        if client is not None and self._sending_only:
            return not client.is_closed()  # a worker only calls REST; login answered at start
        return client is not None and client.is_ready() and not client.is_closed()

    # ----- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, register the commands, connect to the gateway and wait until ready."""
        client = self._build_client()
        client.on_feedback = self._on_feedback
        client.on_interaction_seen = self._on_interaction_seen
        client.add_dynamic_items(FeedbackButton)
        tree = build_command_tree(client, self._on_command)
        tree.error(self._on_command_error)
        self._client = client
        self._stopped.clear()
        try:
            await self._login(client)
            await call_discord("registering commands", lambda: sync_commands(tree))
            self._connection = asyncio.create_task(
                client.connect(reconnect=True), context=routed_context(self._endpoints)
            )
            await self._until_ready(client, self._connection)
        except BaseException:
            await self.stop()
            raise
        logger.info("Discord bot %s connected", client.user)

    async def start_sending(self) -> None:
        """Worker role: log in over REST and send replies; no gateway connection, no events.

        discord.py's `login` checks the token (`/users/@me`) and reads the application; sends,
        edits, typing and threads are REST calls. Slash command answers go through the
        interaction's webhook, whose adapter discord.py takes from a context variable: it is
        set here for this task and every task it starts (the queue worker's replies).
        """
        client = self._build_client()
        self._client = client
        self._stopped.clear()
        async_context.set(RoutedWebhookAdapter(self._endpoints))
        try:
            await self._login(client)
        except BaseException:
            await self.stop()
            raise
        self._sending_only = True
        logger.info("Discord bot %s sending replies (queue worker)", client.user)

    def _build_client(self) -> BridgeClient:
        if not self._token:
            raise ConfigurationError("a Discord bot token is required")
        return BridgeClient(
            endpoints=self._endpoints,
            intents=bridge_intents(message_content=self.options.message_content),
            raw_events=frozenset({"MESSAGE_CREATE"}),
            on_raw_event=self._on_raw_event,
            guild_ready_timeout=self.options.guild_ready_timeout,
        )

    async def _login(self, client: BridgeClient) -> None:
        try:
            await client.login(self._token)
        except discord.LoginFailure as exc:
            raise ConfigurationError(
                "Discord refused the bot token (BLOOMBRIDGE_DISCORD_TOKEN): copy it again "
                "from the application's Bot page"
            ) from exc
        except (discord.DiscordException, OSError) as exc:
            raise translate_error(exc, "logging in to Discord") from exc

    async def _until_ready(self, client: BridgeClient, connection: asyncio.Task[None]) -> None:
        ready = asyncio.create_task(client.wait_until_ready())
        try:
            done, _ = await asyncio.wait(
                {ready, connection},
                timeout=self.options.ready_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            ready.cancel()
        if connection in done:
            error = connection.exception()
            if isinstance(error, discord.PrivilegedIntentsRequired):
                raise ConfigurationError(
                    "the message content intent is not enabled for this application "
                    "(Developer Portal, Bot, Privileged Gateway Intents)"
                ) from error
            if isinstance(error, discord.ConnectionClosed) and error.code == _AUTHENTICATION_FAILED:
                raise ConfigurationError("the Discord gateway refused the bot token") from error
            raise PlatformError("the Discord gateway connection ended during start-up") from error
        if ready not in done:
            raise PlatformError("Discord did not finish connecting in time")

    async def run(self) -> None:
        """Answer events until `stop()`, cancellation, or the gateway connection failing."""
        stopped = asyncio.create_task(self._stopped.wait())
        waiting: set[asyncio.Task[Any]] = {stopped}
        if self._connection is not None:
            waiting.add(self._connection)
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        connection = self._connection
        if not self._stopped.is_set() and connection is not None and connection.done():
            error = connection.exception()
            raise PlatformError("the Discord gateway connection ended") from error

    async def stop(self) -> None:
        """Let replies in progress finish (bounded), then close the gateway and HTTP sessions."""
        self._stopped.set()
        # Events already read are handed to the intake first, so draining answers them.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._work.idle.wait(), self.intake.limits.drain_seconds)
        await self.drain()
        client, self._client = self._client, None
        connection, self._connection = self._connection, None
        self._sending_only = False
        if client is not None:
            await client.close()
        if connection is not None:
            with contextlib.suppress(asyncio.CancelledError, discord.DiscordException, OSError):
                await connection

    # ----- messages --------------------------------------------------------------------------

    def _on_raw_event(self, event: str, payload: Mapping[str, Any]) -> None:
        if self._stopped.is_set():
            # Read while shutting down, after the intake stopped taking messages.
            logger.info("a Discord message arrived during shutdown and is not answered")
            return
        self._work.spawn(self._on_message_payload(payload))

    async def _on_message_payload(self, payload: Mapping[str, Any]) -> None:
        try:
            message = await self._normalize(payload)
        except BloombridgeError as exc:
            logger.warning("could not read a Discord message: %s", exc)
            return
        if message is None:
            return
        if not self.deliveries_wait_for_answer:
            self.receive(message.id, message)
        elif not await self.receive_and_wait(message.id, message):
            # The gateway never delivers an event again: only the sender can.
            await self.tell_not_taken(message)

    async def _normalize(self, payload: Mapping[str, Any]) -> IncomingMessage | None:
        client = self.client
        if client.user is None:
            return None
        guild_id, channel_id = message_place(payload)
        role = None
        if guild_id is not None:
            guild = client.get_guild(int(guild_id))
            role = guild.self_role if guild is not None else None
        identity = BotIdentity(str(client.user.id), None if role is None else str(role.id))
        parent = await self._thread_parent(channel_id) if guild_id is not None else None
        listens = self.options.message_content and bool(
            {channel_id, parent} & self.options.listen_channels
        )
        return to_incoming_message(payload, identity, ChannelContext(parent, listens))

    async def _thread_parent(self, channel_id: str) -> str | None:
        """The parent of a thread (threads are their own conversations), else None."""
        client = self.client
        channel: Any = client.get_channel(int(channel_id))
        if channel is None:
            channel = await call_discord(
                "looking up a channel", lambda: client.fetch_channel(int(channel_id))
            )
        if isinstance(channel, discord.Thread):
            return str(channel.parent_id)
        return None

    async def answer(self, message: IncomingMessage) -> None:
        conversation = message.conversation
        if (
            self.options.thread_per_mention
            and not self.hands_off  # the worker opens the thread when it answers
            and conversation.kind is PlaceKind.GROUP
            and message.id not in self._interactions
        ):
            try:
                thread = await self._open_thread(message)
            except PlatformError as exc:
                # No thread (no permission, an announcement channel): answer in the channel.
                logger.warning("could not open a thread for an answer: %s", exc)
            else:
                self._in_new_thread.add(message.id)
                message = dataclasses.replace(
                    message,
                    conversation=conversation_for(conversation.space, thread, conversation.channel),
                )
        await super().answer(message)

    async def _open_thread(self, message: IncomingMessage) -> str:
        client = self.client
        channel_id = int(message.conversation.channel)
        channel: Any = client.get_channel(channel_id)
        if channel is None:
            channel = await call_discord(
                "looking up a channel", lambda: client.fetch_channel(channel_id)
            )
        if not isinstance(channel, discord.TextChannel):
            raise PlatformError("threads can only be opened in a server's text channels")
        name = " ".join(message.text.split())[:_THREAD_NAME_LENGTH] or "BLOOMChat"
        partial = channel.get_partial_message(int(message.id))

        async def create() -> str:
            try:
                thread = await partial.create_thread(name=name)
            except discord.HTTPException as exc:
                if exc.code != _THREAD_EXISTS:
                    raise
                # Opened by an earlier attempt at this reply (a queue worker that died): a
                # thread started from a message has the message's id, and the reply goes on there.
                return message.id
            return str(thread.id)

        return await call_discord("opening a thread", create)

    def reply_target(self, message: IncomingMessage) -> ReplyTarget:
        conversation = message.conversation
        interaction = self._interactions.pop(message.id, None)
        if interaction is not None:
            # Discord shows "thinking…" from the deferral on: no typing signal is needed.
            return ReplyTarget(conversation, InteractionSink(interaction.followup))
        webhook = interaction_webhook_of(message)
        if webhook is not None:
            # A command received by another process (an ingress): answered by its webhook.
            application_id, token = webhook
            partial = discord.Webhook.partial(application_id, token, client=self.client)
            return ReplyTarget(conversation, InteractionSink(partial))
        # In a channel or thread the answer replies to the question; a DM needs no reference,
        # nor does a thread opened for the answer (it starts from the question).
        in_new_thread = message.id in self._in_new_thread
        self._in_new_thread.discard(message.id)
        replies = conversation.kind is not PlaceKind.PRIVATE and not in_new_thread
        channel_sink = ChannelSink(
            self.client,
            channel_id=int(conversation.thread or conversation.channel),
            reply_to=int(message.id) if replies else None,
        )
        return ReplyTarget(conversation, channel_sink, waiting_signal=channel_sink.typing)

    # ----- interactions ----------------------------------------------------------------------

    def _on_interaction_seen(self, interaction: discord.Interaction[Any]) -> None:
        data: Mapping[str, Any] = interaction.data or {}
        if interaction.type is discord.InteractionType.application_command:
            ours = data.get("name") in COMMAND_NAMES
        elif interaction.type is discord.InteractionType.component:
            ours = decode_vote(str(data.get("custom_id", ""))) is not None
        else:
            ours = False
        if ours:
            self._work.begin(interaction.id)

    async def _on_command(
        self, interaction: discord.Interaction[Any], name: str, option: str | None
    ) -> None:
        try:
            message = command_message(CommandCall(_facts(interaction), name, option))
            # reply_target takes it back when the answer (or a flood notice) is delivered.
            self._interactions[message.id] = interaction
            if not self.deliveries_wait_for_answer:
                self.receive(message.id, message)
                return
            taken = await self.receive_and_wait(message.id, message)
            if not taken:
                await self.tell_not_taken(message)  # edits the "thinking…" response
            # Handed on: a worker answers through the interaction's webhook.
            self._interactions.pop(message.id, None)
        finally:
            self._work.end(interaction.id)

    async def _on_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        self._work.end(interaction.id)
        logger.warning("a Discord command failed: %s", error)

    async def _on_feedback(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        try:
            vote = to_feedback(_facts(interaction), custom_id)
            if vote is None:
                return
            await self.receive_vote(vote)
            try:
                # A repeated press is thanked again: the user pressed, whatever the store says.
                await call_discord(
                    "thanking for feedback",
                    lambda: interaction.response.send_message(thanks(vote), ephemeral=True),
                )
            except PlatformError as exc:
                # The rating is stored; only the note that thanks for it was lost.
                logger.info("could not acknowledge feedback: %s", exc)
        finally:
            self._work.end(interaction.id)
