"""The Discord adapter: discord.py 2.x on the gateway, replies streamed into channel messages."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Coroutine, Mapping
from typing import Any

import discord
from discord import app_commands

from adapters.base import Adapter, ChatHandler
from adapters.capabilities import Capabilities, LengthUnit, MarkdownDialect
from adapters.delivery import MessageSink, ReplyMessages
from adapters.discord.client import BridgeClient, bridge_intents
from adapters.discord.commands import COMMAND_NAMES, build_command_tree, sync_commands
from adapters.discord.feedback import FeedbackButton, parse_feedback_custom_id
from adapters.discord.render import DiscordRenderer
from adapters.discord.routing import DiscordEndpoints, routed_context
from adapters.discord.sink import ChannelSink, InteractionSink, call_discord, translate_error
from adapters.discord.translate import (
    PLATFORM,
    BotIdentity,
    ChannelContext,
    CommandCall,
    command_message,
    conversation_for,
    to_incoming_message,
)
from adapters.pacer import Clock, RateGate, ReplyPacer
from core.errors import BloombridgeError, ConfigurationError, PlatformError
from core.messages import IncomingMessage
from core.notices import notice
from core.ordering import ConversationLocks

logger = logging.getLogger(__name__)

# Discord: 2,000 characters a message (counted here in UTF-16 units, which is never fewer);
# about five message changes per five seconds per channel; 50 requests a second per bot.
DISCORD_CAPABILITIES = Capabilities(
    platform=PLATFORM,
    max_message_length=2000,
    length_unit=LengthUnit.UTF16,
    markdown=MarkdownDialect.DISCORD_MARKDOWN,
    private_edit_interval=1.25,
    group_edit_interval=1.25,
    global_calls_per_second=50.0,
)
_THREAD_NAME_LENGTH = 100  # Discord's limit for thread names


@dataclasses.dataclass(frozen=True)
class DiscordOptions:
    """How the bot behaves on Discord, beyond where it connects.

    `message_content` asks for the privileged intent; only then can `listen_channels`
    (channel ids, a thread counts by its parent) be read in full and answered without a
    mention. `thread_per_mention` answers a mention in a channel inside a new thread.
    """

    message_content: bool = False
    listen_channels: frozenset[str] = frozenset()
    thread_per_mention: bool = False
    guild_ready_timeout: float = 2.0
    ready_timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.listen_channels and not self.message_content:
            raise ConfigurationError(
                "answering every message of a channel needs the message content intent: "
                "enable it for the application and set BLOOMBRIDGE_DISCORD_MESSAGE_CONTENT=true"
            )


class _Workload:
    """Work taken on and not yet finished: tasks, and interactions announced by discord.py."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._keys: set[int] = set()
        self.idle = asyncio.Event()
        self.idle.set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        self.idle.clear()
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._update()

    def begin(self, key: int) -> None:
        self._keys.add(key)
        self.idle.clear()

    def end(self, key: int) -> None:
        self._keys.discard(key)
        self._update()

    def _update(self) -> None:
        if not self._tasks and not self._keys:
            self.idle.set()


class DiscordAdapter(Adapter):
    """Answers Discord mentions, replies, DMs and slash commands with streamed replies.

    `async with` it, then `run()`. Each message id is claimed through the handler (stored,
    so a redelivered event is answered once); one reply at a time per conversation.
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
    ) -> None:
        super().__init__(handler)
        self._token = token
        self._endpoints = endpoints or DiscordEndpoints()
        self.options = options or DiscordOptions()
        self.capabilities = capabilities
        self.gate = RateGate(calls_per_second=capabilities.global_calls_per_second, clock=clock)
        self.pacer = ReplyPacer(self.gate)
        self._renderer = DiscordRenderer()
        self._locks = ConversationLocks()
        self._client: BridgeClient | None = None
        self._connection: asyncio.Task[None] | None = None
        self._work = _Workload()
        self._stopped = asyncio.Event()

    def __repr__(self) -> str:
        return f"DiscordAdapter(api_url={self._endpoints.api_url!r})"

    @property
    def client(self) -> BridgeClient:
        """The running discord.py client."""
        if self._client is None:
            raise RuntimeError("the Discord adapter is not running")
        return self._client

    # ----- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, register the commands, connect to the gateway and wait until ready."""
        if not self._token:
            raise ConfigurationError("a Discord bot token is required")
        client = BridgeClient(
            endpoints=self._endpoints,
            intents=bridge_intents(message_content=self.options.message_content),
            raw_events=frozenset({"MESSAGE_CREATE"}),
            on_raw_event=self._on_raw_event,
            guild_ready_timeout=self.options.guild_ready_timeout,
        )
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
            if isinstance(error, discord.ConnectionClosed) and error.code == 4004:
                raise ConfigurationError("the Discord gateway refused the bot token") from error
            if isinstance(error, discord.PrivilegedIntentsRequired):
                raise ConfigurationError(
                    "the message content intent is not enabled for this application "
                    "(Developer Portal, Bot, Privileged Gateway Intents)"
                ) from error
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

    async def drain(self) -> None:
        """Wait until every event received so far is answered."""
        await self._work.idle.wait()

    async def stop(self) -> None:
        """Let replies in progress finish, then close the gateway and HTTP sessions."""
        self._stopped.set()
        await self.drain()
        client, self._client = self._client, None
        connection, self._connection = self._connection, None
        if client is not None:
            await client.close()
        if connection is not None:
            with contextlib.suppress(asyncio.CancelledError, discord.DiscordException, OSError):
                await connection

    # ----- incoming --------------------------------------------------------------------------

    def _on_raw_event(self, event: str, payload: Mapping[str, Any]) -> None:
        self._work.spawn(self._on_message_payload(payload))

    async def _on_message_payload(self, payload: Mapping[str, Any]) -> None:
        try:
            message = await self._normalize(payload)
            if message is not None and message.addressed_to_bot:
                await self._take(message)
        except BloombridgeError as exc:
            logger.warning("could not answer a Discord message: %s", exc)
        except Exception:
            logger.exception("a Discord message failed")

    def _on_interaction_seen(self, interaction: discord.Interaction[Any]) -> None:
        data: Mapping[str, Any] = interaction.data or {}
        if interaction.type is discord.InteractionType.application_command:
            ours = data.get("name") in COMMAND_NAMES
        elif interaction.type is discord.InteractionType.component:
            ours = parse_feedback_custom_id(str(data.get("custom_id", ""))) is not None
        else:
            ours = False
        if ours:
            self._work.begin(interaction.id)

    async def _normalize(self, payload: Mapping[str, Any]) -> IncomingMessage | None:
        client = self.client
        if client.user is None:
            return None
        guild_id = payload.get("guild_id")
        role = None
        if guild_id is not None:
            guild = client.get_guild(int(guild_id))
            role = guild.self_role if guild is not None else None
        identity = BotIdentity(str(client.user.id), None if role is None else str(role.id))
        channel_id = str(payload["channel_id"])
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

    async def _take(self, message: IncomingMessage) -> None:
        async with self._locks.hold(message.conversation.key):
            if not await self.handler.claim_event(PLATFORM, message.id):
                logger.info("Discord message %s was already handled", message.id)
                return
            conversation = message.conversation
            if conversation.space is None:  # a DM: no reply reference needed
                sink = ChannelSink(self.client, channel_id=int(conversation.channel))
            elif self.options.thread_per_mention and conversation.thread is None:
                thread = await self._open_thread(message)
                message = dataclasses.replace(
                    message,
                    conversation=conversation_for(conversation.space, thread, conversation.channel),
                )
                sink = ChannelSink(self.client, channel_id=int(thread))
            else:
                sink = ChannelSink(
                    self.client,
                    channel_id=int(conversation.thread or conversation.channel),
                    reply_to=int(message.id),
                )
            await self._deliver(message, sink)

    async def _open_thread(self, message: IncomingMessage) -> str:
        channel = self.client.get_partial_messageable(int(message.conversation.channel))
        name = " ".join(message.text.split())[:_THREAD_NAME_LENGTH] or "BLOOMChat"
        partial = channel.get_partial_message(int(message.id))
        thread = await call_discord("opening a thread", lambda: partial.create_thread(name=name))
        return str(thread.id)

    async def _deliver(self, message: IncomingMessage, sink: ChannelSink | InteractionSink) -> None:
        conversation = message.conversation
        where = conversation.thread or conversation.channel
        interval = self.capabilities.edit_interval(private=conversation.space is None)

        async def before_call() -> None:
            await self.gate.acquire(where, interval)

        bound: MessageSink = sink
        messages = ReplyMessages(bound, self.capabilities, self._renderer, before_call=before_call)
        stream = self.handler.handle(message)
        await self.pacer.deliver(stream, messages.show, chat=where, on_waiting=sink.typing)

    # ----- interactions ----------------------------------------------------------------------

    async def _on_command(
        self, interaction: discord.Interaction[Any], name: str, option: str | None
    ) -> None:
        try:
            await self._answer_command(interaction, name, option)
        finally:
            self._work.end(interaction.id)

    async def _on_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        self._work.end(interaction.id)
        logger.warning("a Discord command failed: %s", error)

    async def _answer_command(
        self, interaction: discord.Interaction[Any], name: str, option: str | None
    ) -> None:
        channel = interaction.channel
        parent = str(channel.parent_id) if isinstance(channel, discord.Thread) else None
        call = CommandCall(
            interaction_id=str(interaction.id),
            name=name,
            option=option,
            user_id=str(interaction.user.id),
            user_name=interaction.user.display_name,
            locale=interaction.locale.value,
            guild_id=None if interaction.guild_id is None else str(interaction.guild_id),
            channel_id=str(interaction.channel_id),
            thread_parent_id=parent,
            created_at=interaction.created_at,
        )
        message = command_message(call)
        try:
            async with self._locks.hold(message.conversation.key):
                if not await self.handler.claim_event(PLATFORM, message.id):
                    return
                await self._deliver(message, InteractionSink(interaction))
        except BloombridgeError as exc:
            logger.warning("could not answer a Discord command: %s", exc)

    async def _on_feedback(
        self, interaction: discord.Interaction[Any], reply_id: str, value: int
    ) -> None:
        try:
            await self._record_feedback(interaction, reply_id, value)
        finally:
            self._work.end(interaction.id)

    async def _record_feedback(
        self, interaction: discord.Interaction[Any], reply_id: str, value: int
    ) -> None:
        channel = interaction.channel
        parent = str(channel.parent_id) if isinstance(channel, discord.Thread) else None
        guild = None if interaction.guild_id is None else str(interaction.guild_id)
        conversation = conversation_for(guild, str(interaction.channel_id), parent)
        await self.handler.record_feedback(conversation, reply_id, str(interaction.user.id), value)
        thanks = notice("feedback_thanks", interaction.locale.value)
        try:
            await call_discord(
                "thanking for feedback",
                lambda: interaction.response.send_message(thanks, ephemeral=True),
            )
        except PlatformError as exc:
            # The rating is stored; only the note that thanks for it was lost.
            logger.info("could not acknowledge feedback: %s", exc)
