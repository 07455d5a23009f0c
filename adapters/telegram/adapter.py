"""The Telegram adapter: python-telegram-bot v22 by long polling or webhook, replies streamed."""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from telegram import Bot, BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from tornado.httpserver import HTTPServer

from adapters.base import ChatHandler
from adapters.capabilities import Capabilities, LengthUnit, MarkdownDialect, RateLimitOwner
from adapters.feedback import FeedbackVote, thanks
from adapters.intake import IntakeLimits
from adapters.pacer import Clock
from adapters.streaming import ReplyTarget
from adapters.streaming_adapter import StreamingAdapter
from adapters.telegram.render import TelegramRenderer
from adapters.telegram.sink import TelegramSink, translate_error
from adapters.telegram.translate import (
    PLATFORM,
    BotIdentity,
    to_feedback,
    to_incoming_message,
)
from adapters.telegram.webhook import ConfirmingWebhook, WebhookConfig
from core.commands import command_menus
from core.errors import ConfigurationError, PlatformError
from core.messages import IncomingMessage

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"

# Bot API limits: 4096 UTF-16 units per message; about one message per second in a
# private chat, twenty per minute in a group, thirty per second for the whole bot.
TELEGRAM_CAPABILITIES = Capabilities(
    platform=PLATFORM,
    max_message_length=4096,
    length_unit=LengthUnit.UTF16,
    markdown=MarkdownDialect.TELEGRAM_ENTITIES,
    private_edit_interval=1.0,
    group_edit_interval=3.0,
    global_calls_per_second=30.0,
    supports_drafts=True,
    # python-telegram-bot raises RetryAfter and never retries: the sink turns it into
    # RateLimited and the pacer waits it out for that chat only.
    rate_limits=RateLimitOwner.PACER,
)

ALLOWED_UPDATES = ("message", "callback_query")
# The webhook request an update is being processed for, when Telegram waits for its fate.
_posted_update: ContextVar[_UpdateFate | None] = ContextVar("posted_update", default=None)


@dataclass
class _UpdateFate:
    taken: bool = True


class TelegramAdapter(StreamingAdapter):
    """Answers Telegram messages with streamed replies; `async with` it, then `run()`.

    Private chats get every message answered; groups only messages that mention the bot,
    reply to it or give it a command. Forum topics are separate conversations. Updates go
    to the shared intake (claimed by update id, ordered per chat) and return at once, so
    the application's concurrent-update slots are never held by waiting messages.
    """

    platform = PLATFORM

    def __init__(
        self,
        handler: ChatHandler,
        *,
        token: str,
        api_url: str = DEFAULT_API_URL,
        webhook: WebhookConfig | None = None,
        capabilities: Capabilities = TELEGRAM_CAPABILITIES,
        clock: Clock | None = None,
        use_drafts: bool = True,
        poll_timeout: float = 10.0,
        request_timeout: float = 10.0,
        max_concurrent_updates: int = 16,
        limits: IntakeLimits | None = None,
    ) -> None:
        self._renderer = TelegramRenderer()
        super().__init__(
            handler,
            capabilities=capabilities,
            renderer=self._renderer,
            clock=clock,
            limits=limits,
        )
        self._token = token
        self._api_url = api_url.rstrip("/")
        self._webhook = webhook
        self._use_drafts = use_drafts and capabilities.supports_drafts
        self._poll_timeout = poll_timeout
        self._request_timeout = request_timeout
        self._max_concurrent_updates = max_concurrent_updates
        self._app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._identity: BotIdentity | None = None
        self._stopped = asyncio.Event()
        self._confirming: ConfirmingWebhook | None = None
        self._sending_only = False

    @property
    def identity(self) -> BotIdentity:
        """The bot's id and username (known once started)."""
        if self._identity is None:
            raise RuntimeError("the Telegram adapter has not been started")
        return self._identity

    async def start(self) -> None:
        """Check the token (getMe), register commands, and start polling or the webhook."""
        app = self._build_app()
        app.add_handler(TypeHandler(Update, self._on_update))
        app.add_error_handler(self._on_error)
        self._app = app
        try:
            await app.initialize()
            self._identity = BotIdentity(app.bot.id, app.bot.username)
            await self._register_commands()
            await app.start()
            await self._start_updates(app)
        except TelegramError as exc:
            await self.stop()
            raise translate_error(exc, "connecting to Telegram") from exc
        except BaseException:
            await self.stop()
            raise
        logger.info("Telegram bot @%s started (%s)", self._identity.username, self._mode)

    async def start_sending(self) -> None:
        """Worker role: check the token (getMe) and send replies; no updates are fetched."""
        app = self._build_app()
        self._app = app
        try:
            await app.initialize()
        except TelegramError as exc:
            await self.stop()
            raise translate_error(exc, "connecting to Telegram") from exc
        except BaseException:
            await self.stop()
            raise
        self._identity = BotIdentity(app.bot.id, app.bot.username)
        self._sending_only = True
        logger.info("Telegram bot @%s sending replies (queue worker)", self._identity.username)

    def _build_app(self) -> Application[Any, Any, Any, Any, Any, Any]:
        if not self._token:
            raise ConfigurationError("a Telegram bot token is required")
        timeout = self._request_timeout
        app = (
            ApplicationBuilder()
            .token(self._token)
            .base_url(f"{self._api_url}/bot")
            .base_file_url(f"{self._api_url}/file/bot")
            .concurrent_updates(self._max_concurrent_updates)
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .write_timeout(timeout)
            .pool_timeout(timeout)
            .get_updates_connect_timeout(timeout)
            .get_updates_read_timeout(timeout)
            .get_updates_write_timeout(timeout)
            .get_updates_pool_timeout(timeout)
            .build()
        )
        return app

    @property
    def _mode(self) -> str:
        return "webhook" if self._webhook is not None else "long polling"

    async def _start_updates(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        updater = app.updater
        if updater is None:
            raise ConfigurationError("the Telegram application has no updater")
        if self._webhook is None:
            await updater.start_polling(
                timeout=int(self._poll_timeout), allowed_updates=list(ALLOWED_UPDATES)
            )
            return
        if self.deliveries_wait_for_answer:
            await self._start_confirming_webhook(app, self._webhook)
            return
        # PTB builds its tornado HTTPServer inside start_webhook; tornado's documented
        # Configurable.configure hands it the body cap, for this server only.
        HTTPServer.configure(None, max_body_size=self._webhook.max_body_bytes)
        try:
            await updater.start_webhook(
                listen=self._webhook.listen,
                port=self._webhook.port,
                url_path=self._webhook.path,
                webhook_url=self._webhook.url,
                secret_token=self._webhook.secret_token,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        finally:
            HTTPServer.configure(None)

    async def _start_confirming_webhook(
        self, app: Application[Any, Any, Any, Any, Any, Any], config: WebhookConfig
    ) -> None:
        """Serve the webhook ourselves: each POST is answered with its update's fate."""

        async def take(data: dict[str, Any]) -> bool:
            try:
                update = Update.de_json(data, app.bot)
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError("not a Telegram update") from exc
            fate = _UpdateFate()
            token = _posted_update.set(fate)
            try:
                await app.process_update(update)
            finally:
                _posted_update.reset(token)
            return fate.taken

        webhook = ConfirmingWebhook(config, take)
        await webhook.start()
        self._confirming = webhook
        await app.bot.set_webhook(
            url=config.url,
            allowed_updates=list(ALLOWED_UPDATES),
            secret_token=config.secret_token,
        )

    async def _register_commands(self) -> None:
        """setMyCommands with the shared catalogue, in English and every translated language.

        Telegram takes two-letter ISO 639-1 codes only ("zh-hant" cannot be registered).
        A refused registration is logged: the bot still works without the command menu.
        """
        bot = self.bot
        for language, menu in command_menus():
            if language is not None and not (len(language) == 2 and language.isalpha()):
                continue
            commands = [BotCommand(name, description) for name, description in menu]
            try:
                await bot.set_my_commands(commands, language_code=language)
            except TelegramError as exc:
                logger.warning(
                    "could not register the %s command menu: %s", language or "default", exc
                )

    async def run(self) -> None:
        """Process updates until `stop()` or cancellation."""
        await self._stopped.wait()

    @property
    def connected(self) -> bool:
        """True while updates are being fetched (long polling) or received (webhook)."""
        app = self._app
        if app is not None and self._sending_only:
            return True  # a worker only calls the Bot API; getMe answered at start
        if app is None or not app.running:
            return False
        if self._confirming is not None:
            return self._confirming.running
        return app.updater is not None and app.updater.running

    async def stop(self) -> None:
        """Stop fetching updates, let replies in progress finish (bounded), close connections."""
        self._stopped.set()
        app = self._app
        if app is None:
            return
        try:
            confirming, self._confirming = self._confirming, None
            if confirming is not None:
                await confirming.stop()
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                # Hands every update already fetched to the intake; the bot can still call.
                await app.stop()
            # Updates already received are still answered, for at most the drain time.
            await self.drain()
            await app.shutdown()
        except TelegramError as exc:
            raise translate_error(exc, "disconnecting from Telegram") from exc
        finally:
            self._app = None
            self._sending_only = False

    @property
    def bot(self) -> Bot:
        """The python-telegram-bot Bot of the running adapter."""
        bot: Bot = self._require_app().bot
        return bot

    def _require_app(self) -> Application[Any, Any, Any, Any, Any, Any]:
        if self._app is None:
            raise RuntimeError("the Telegram adapter is not running")
        return self._app

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        payload = update.to_dict()
        vote = to_feedback(payload)
        if vote is not None:
            await self._on_feedback(vote)
            return
        message = to_incoming_message(payload, self.identity)
        if message is None:
            return
        fate = _posted_update.get()
        if fate is None:
            self.receive(str(update.update_id), message)
        else:
            fate.taken = await self.receive_and_wait(str(update.update_id), message)

    def reply_target(self, message: IncomingMessage) -> ReplyTarget:
        conversation = message.conversation
        private = conversation.is_private
        sink = TelegramSink(
            self.bot,
            self._renderer,
            chat_id=int(conversation.channel),
            thread_id=None if conversation.thread is None else int(conversation.thread),
            reply_to=None if private else int(message.id),
            on_drafts_missing=self._drafts_missing,
        )
        return ReplyTarget(
            conversation,
            sink,
            waiting_signal=sink.typing,
            use_previews=private and self._use_drafts,
        )

    def _drafts_missing(self) -> None:
        self._use_drafts = False

    async def _on_feedback(self, vote: FeedbackVote) -> None:
        await self.receive_vote(vote)
        try:
            # A repeated press is thanked again: the user pressed, whatever the store says.
            await self.bot.answer_callback_query(vote.event_id, text=thanks(vote))
        except TelegramError as exc:
            # The rating is stored; only the toast that thanks for it was lost.
            logger.info("could not acknowledge feedback: %s", translate_error(exc, "answer"))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        if isinstance(error, PlatformError | TelegramError):
            logger.warning("Telegram update failed: %s", error)
            return
        logger.error("Telegram update failed", exc_info=error)
