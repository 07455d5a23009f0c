"""The Slack adapter: a slack-bolt AsyncApp in Socket Mode or over HTTP, replies streamed natively."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.base import ChatHandler
from adapters.capabilities import Capabilities, LengthUnit, MarkdownDialect, RateLimitOwner
from adapters.feedback import thanks
from adapters.intake import IntakeLimits
from adapters.pacer import Clock
from adapters.slack.locales import UserLocales
from adapters.slack.render import SlackRenderer
from adapters.slack.response_sink import ResponseUrlSink
from adapters.slack.sink import SlackCallFailed, SlackMessageSink, SlackStreamSink, call_slack
from adapters.slack.threads import ThreadMemory
from adapters.slack.translate import (
    PLATFORM,
    BotIdentity,
    event_key,
    from_slash_command,
    response_url_of,
    to_feedback,
    to_incoming_message,
)
from adapters.streaming import ReplyTarget, language_hint
from adapters.streaming_adapter import EventNotTaken, StreamingAdapter
from core.errors import ConfigurationError, PlatformError
from core.messages import IncomingMessage, PlaceKind
from core.notices import notice

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_COMMAND = "/bloombridge"
EVENTS_PATH = "/slack/events"

# Slack recommends keeping a message's text under 4,000 characters (it truncates at 40,000;
# a markdown block holds 12,000). Message changes are Web API Tier 3/4 calls: about one a
# second per thread keeps a stream smooth, and the workspace budget is shared by all threads.
SLACK_CAPABILITIES = Capabilities(
    platform=PLATFORM,
    max_message_length=4000,
    length_unit=LengthUnit.CODEPOINTS,
    markdown=MarkdownDialect.SLACK_MARKDOWN,
    private_edit_interval=1.0,
    group_edit_interval=1.0,
    global_calls_per_second=20.0,
    space_calls_per_second=2.0,
    rate_limits=RateLimitOwner.PACER,
)

_REFUSED_TOKEN = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
_FEEDBACK_ACTION = re.compile(r"^feedback_(up|down)$")


@dataclass(frozen=True)
class HttpConfig:
    """HTTP Events API mode: Slack posts to `http://listen:port/slack/events` (TLS in front)."""

    port: int
    signing_secret: str
    listen: str = "0.0.0.0"
    path: str = EVENTS_PATH

    def __repr__(self) -> str:
        return f"HttpConfig(listen={self.listen!r}, port={self.port}, path={self.path!r})"


class SlackAdapter(StreamingAdapter):
    """Answers Slack mentions, DMs and thread follow-ups with streamed replies.

    `async with` it, then `run()`. Socket Mode needs the app-level token; HTTP mode
    (`http`) verifies every request with the signing secret and refuses stale ones. Events
    are acknowledged at once and answered through the shared intake, claimed by post (one
    key for a post's `app_mention` and `message` events and any retry), so each post is
    answered once, also across restarts.
    """

    platform = PLATFORM
    answer_within = 3.0  # Slack retries an event not acknowledged within three seconds

    def __init__(
        self,
        handler: ChatHandler,
        *,
        bot_token: str,
        app_token: str | None = None,
        http: HttpConfig | None = None,
        api_url: str = DEFAULT_API_URL,
        command: str = DEFAULT_COMMAND,
        capabilities: Capabilities = SLACK_CAPABILITIES,
        clock: Clock | None = None,
        streaming: bool = True,
        request_timeout: float = 10.0,
        ping_interval: float = 10.0,
        limits: IntakeLimits | None = None,
    ) -> None:
        self._renderer = SlackRenderer()
        super().__init__(
            handler, capabilities=capabilities, renderer=self._renderer, clock=clock, limits=limits
        )
        self._bot_token = bot_token
        self._app_token = app_token
        self._http = http
        self._api_url = api_url if api_url.endswith("/") else api_url + "/"
        self._command = command
        self._streaming = streaming
        self._request_timeout = request_timeout
        self._ping_interval = ping_interval
        self._client: AsyncWebClient | None = None
        self._identity: BotIdentity | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self._locales = UserLocales(lambda: self.client)
        self._threads = ThreadMemory(handler)
        self._site: web.TCPSite | None = None
        self._stopped = asyncio.Event()
        self._sending_only = False
        self.http_url = ""  # where the HTTP endpoint listens, once started

    # ----- connecting ------------------------------------------------------------------------

    @property
    def identity(self) -> BotIdentity:
        """The bot user of the app (known once started)."""
        if self._identity is None:
            raise RuntimeError("the Slack adapter has not been started")
        return self._identity

    @property
    def client(self) -> AsyncWebClient:
        """The Web API client of the running adapter (slack_sdk, at the configured base URL)."""
        if self._client is None:
            raise RuntimeError("the Slack adapter is not running")
        return self._client

    @property
    def connected(self) -> bool:
        """True while the Socket Mode connection is up, or the HTTP endpoint listens."""
        if self._runner is not None:
            return True
        if self._sending_only and self._client is not None:
            return True  # a worker only calls the Web API; auth.test answered at start
        session = None if self._socket is None else self._socket.client.current_session
        return session is not None and not session.closed

    async def start(self) -> None:
        """Check the bot token (auth.test), then connect Socket Mode or open the HTTP endpoint."""
        if not self._bot_token:
            raise ConfigurationError("a Slack bot token is required")
        if self._http is None and not self._app_token:
            raise ConfigurationError("Socket Mode needs the app-level token (xapp-...)")
        if self._http is not None and not self._http.signing_secret:
            raise ConfigurationError("HTTP mode needs the app's signing secret")
        self._stopped.clear()
        try:
            client = await self._authenticate()
            app = self._build_app(client)
            if self._http is None:
                await self._connect_socket_mode(app)
            else:
                await self._listen(app, self._http)
        except BaseException:
            await self.stop()
            raise
        logger.info("Slack bot %s started (%s)", self.identity.user_id, self._mode)

    async def start_sending(self) -> None:
        """Worker role: check the bot token (auth.test) and send replies through the Web API.

        No Socket Mode connection and no HTTP endpoint: events reach the ingress only, so
        neither the app-level token nor the signing secret is used here.
        """
        if not self._bot_token:
            raise ConfigurationError("a Slack bot token is required")
        self._stopped.clear()
        try:
            await self._authenticate()
        except BaseException:
            await self.stop()
            raise
        self._sending_only = True
        logger.info("Slack bot %s sending replies (queue worker)", self.identity.user_id)

    async def _authenticate(self) -> AsyncWebClient:
        """The Web API client, its bot token checked (auth.test) and the bot user known."""
        client = AsyncWebClient(
            token=self._bot_token, base_url=self._api_url, timeout=int(self._request_timeout)
        )
        self._client = client
        auth = await self._checked("the bot token", "auth.test", client.auth_test)
        self._identity = BotIdentity(
            user_id=str(auth["user_id"]),
            bot_id=str(auth.get("bot_id") or ""),
            team_id=str(auth.get("team_id") or ""),
        )
        return client

    async def _checked(
        self, what: str, action: str, call: Callable[[], Awaitable[AsyncSlackResponse]]
    ) -> AsyncSlackResponse:
        """A start-up call; a refused token is a ConfigurationError naming it (never its value)."""
        try:
            return await call_slack(action, call)
        except SlackCallFailed as exc:
            if exc.code in _REFUSED_TOKEN:
                raise ConfigurationError(f"Slack refused {what} ({exc.code})") from exc
            raise

    @property
    def _mode(self) -> str:
        return "Socket Mode" if self._http is None else f"HTTP on port {self._http.port}"

    def _build_app(self, client: AsyncWebClient) -> AsyncApp:
        http = self._http
        app = AsyncApp(
            client=client,
            signing_secret=http.signing_secret if http is not None else "socket-mode",
            request_verification_enabled=http is not None,
            # Listeners only queue the event (the reply runs in the intake), so acknowledging
            # after them is still immediate, and an acknowledged event is never lost at shutdown.
            process_before_response=True,
            logger=logger,
        )
        app.event("app_mention")(self._on_event)
        app.event("message")(self._on_event)
        app.command(self._command)(self._on_command)
        app.action(_FEEDBACK_ACTION)(self._on_action)
        app.error(self._on_error)
        return app

    async def _connect_socket_mode(self, app: AsyncApp) -> None:
        socket = AsyncSocketModeHandler(
            app,
            app_token=self._app_token,
            web_client=self.client,
            ping_interval=self._ping_interval,
            logger=logger,
        )
        self._socket = socket
        app_client = AsyncWebClient(base_url=self._api_url, timeout=int(self._request_timeout))
        opened = await self._checked(
            "the app-level token",
            "apps.connections.open",
            lambda: app_client.apps_connections_open(app_token=self._app_token or ""),
        )
        # The URL just issued is used for the first connection; reconnections ask anew.
        socket.client.wss_uri = str(opened["url"])
        await socket.connect_async()  # type: ignore[no-untyped-call]

    async def _listen(self, app: AsyncApp, http: HttpConfig) -> None:
        async def events(request: web.Request) -> web.Response:
            response = await app.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(response)

        server = web.Application()
        server.router.add_post(http.path, events)
        runner = web.AppRunner(server, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        self._runner = runner
        self._site = web.TCPSite(runner, http.listen, http.port)
        await self._site.start()
        host, port = runner.addresses[0][:2]
        self.http_url = f"http://{host}:{port}{http.path}"

    async def run(self) -> None:
        """Process events until `stop()` or cancellation."""
        await self._stopped.wait()

    async def stop(self) -> None:
        """Stop receiving, let replies in progress finish (bounded), close connections."""
        self._stopped.set()
        socket, self._socket = self._socket, None
        runner, self._runner = self._runner, None
        site, self._site = self._site, None
        try:
            # Nothing new comes in (events not yet acknowledged are retried by Slack), then
            # everything acknowledged is answered, for at most the drain time.
            if socket is not None:
                await socket.close_async()  # type: ignore[no-untyped-call]
            if site is not None:
                await site.stop()
            await self.drain()
        finally:
            if runner is not None:
                await runner.cleanup()
            self.http_url = ""
            self._sending_only = False

    # ----- receiving -------------------------------------------------------------------------

    async def _on_event(self, body: dict[str, Any]) -> None:
        message = to_incoming_message(body, self.identity)
        if message is None:
            return
        conversation = message.conversation
        if conversation.kind is PlaceKind.THREAD:
            if message.addressed_to_bot:
                # Remembered at once, so follow-ups written while it answers are answered too.
                await self._threads.remember(conversation)
            elif await self._threads.answers_in(conversation):
                message = dataclasses.replace(message, addressed_to_bot=True)
        if not message.addressed_to_bot:
            return
        if not self.deliveries_wait_for_answer:
            self.receive(event_key(message), message)
        elif not await self.receive_and_wait(event_key(message), message):
            # Bolt processes before it responds: the event goes unacknowledged (HTTP 500, or
            # no Socket Mode ack) and Slack delivers it again.
            raise EventNotTaken("the event could not be queued; Slack will deliver it again")

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        message = from_slash_command(body, now=datetime.now(UTC))
        if not self.deliveries_wait_for_answer:
            await ack()  # within Slack's 3 seconds; the answer follows through response_url
            self.receive(event_key(message), message)
        elif await self.receive_and_wait(event_key(message), message):
            await ack()
        else:
            # Slack never sends a slash command again: the user is asked to, at once.
            text = notice("not_taken", language_hint(message))
            await ack(text=text, response_type="ephemeral")

    async def _on_action(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        vote = to_feedback(body)
        if vote is None:
            return
        await self.receive_vote(vote)
        if vote.locale_hint is None:
            vote = dataclasses.replace(vote, locale_hint=await self._locales.of(vote.sender_id))
        try:
            # A repeated press is thanked again: the user pressed, whatever the store says.
            await respond(text=thanks(vote), response_type="ephemeral", replace_original=False)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            # The rating is stored; only the note that thanks for it was lost.
            logger.info("could not thank for feedback: %s", type(exc).__name__)

    async def answer(self, message: IncomingMessage) -> None:
        """Answer one message, with the sender's Slack locale as its language hint.

        An ingress hands the message on as it came (the worker looks the locale up), so the
        hand-off stays within Slack's three seconds.
        """
        if not self.hands_off:
            message = await self._with_locale(message)
        await super().answer(message)

    async def tell_queued(self, message: IncomingMessage, position: int) -> None:
        """The place-in-line notice, in the sender's Slack locale."""
        await super().tell_queued(await self._with_locale(message), position)

    async def _with_locale(self, message: IncomingMessage) -> IncomingMessage:
        """The message with the sender's Slack locale as its language hint (users.info, cached)."""
        if message.sender.locale_hint is not None:
            return message
        locale = await self._locales.of(message.sender.id)
        if locale is None:
            return message
        return dataclasses.replace(
            message, sender=dataclasses.replace(message.sender, locale_hint=locale)
        )

    async def _on_error(self, error: Exception, body: Mapping[str, Any]) -> None:
        if isinstance(error, PlatformError | SlackClientError):
            logger.warning("Slack event failed: %s", error)
            return
        logger.error("Slack event failed", exc_info=error)

    # ----- answering -------------------------------------------------------------------------

    def reply_target(self, message: IncomingMessage) -> ReplyTarget:
        conversation = message.conversation
        response_url = response_url_of(message)
        if response_url is not None:
            return ReplyTarget(conversation, ResponseUrlSink(response_url))
        thread = conversation.thread
        # Shown under the thread after the app's name until the first text: "is thinking…".
        status = notice("status_thinking", language_hint(message))
        if thread is None or not self._streaming:
            sink = SlackMessageSink(
                self.client,
                channel=conversation.channel,
                thread_ts=thread,
                renderer=self._renderer,
                status=status,
            )
            # Slack shows a status only under a thread; a flat DM reply has none.
            signal = None if thread is None else sink.set_status
            return ReplyTarget(conversation, sink, waiting_signal=signal)
        private = conversation.kind is PlaceKind.PRIVATE
        stream = SlackStreamSink(
            self.client,
            channel=conversation.channel,
            thread_ts=thread,
            # Outside DMs Slack needs to know whom the stream is for.
            recipient=None if private else (message.sender.id, conversation.space or ""),
            renderer=self._renderer,
            status=status,
            on_unavailable=self._streaming_unavailable,
        )
        return ReplyTarget(conversation, stream, waiting_signal=stream.set_status)

    def _streaming_unavailable(self) -> None:
        self._streaming = False
