"""One reply's Slack messages: streamed natively (chat.startStream/appendStream/stopStream) or
posted and updated (chat.postMessage/chat.update), with Slack errors translated at the boundary.

`SlackMessageSink` posts and replaces whole messages (`adapters.delivery.MessageSink`): used
where Slack cannot stream (flat DMs have no thread to stream into) or streaming is off.
`SlackStreamSink` streams into a thread (`adapters.delivery.AppendSink`) through slack_sdk's
chat stream helper. When a stream was refused or has expired (`message_not_in_streaming_state`)
it keeps the message going with chat.update, so no text is lost or shown twice. Rate limits
(HTTP 429) are raised as `RateLimited` with Slack's Retry-After: the shared pacer waits them
out (slack_sdk's own 429 retry handler is not installed, so nobody waits twice).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from adapters.markdown import RenderedMessage
from adapters.pacer import RateLimited
from adapters.slack.render import SlackRenderer, escape, feedback_blocks, message_fields
from core.errors import PlatformError
from core.messages import Reply
from core.notices import FALLBACK_LANGUAGE, notice

logger = logging.getLogger(__name__)

T = TypeVar("T")

NOT_STREAMING = "message_not_in_streaming_state"
# Errors meaning this workspace, token or channel cannot stream at all: post and update instead.
STREAMING_UNAVAILABLE = frozenset(
    {
        "unknown_method",
        "method_deprecated",
        "not_allowed_token_type",
        "missing_scope",
        "feature_not_enabled",
        "channel_type_not_supported",
        "invalid_arguments",
        "missing_recipient_user_id",
        "missing_recipient_team_id",
    }
)
_DEFAULT_RETRY_AFTER = 1.0


def slack_error_code(error: SlackApiError) -> str:
    """Slack's error code ("ratelimited", "channel_not_found", ...) of a failed call."""
    data = error.response.data if isinstance(error.response.data, dict) else {}
    return str(data.get("error") or f"http_{error.response.status_code}")


class SlackCallFailed(PlatformError):
    """A Web API call Slack answered with an error; `code` is Slack's ("channel_not_found")."""

    def __init__(self, action: str, code: str) -> None:
        super().__init__(f"{action} failed: {code}")
        self.code = code


def translate_error(error: SlackClientError, action: str) -> PlatformError:
    """The bloombridge error for a failed Web API call; only Slack's error code is kept."""
    if isinstance(error, SlackApiError):
        code = slack_error_code(error)
        if error.response.status_code == 429 or code == "ratelimited":
            header = error.response.headers.get("Retry-After") or error.response.headers.get(
                "retry-after"
            )
            retry_after = float(header) if header else _DEFAULT_RETRY_AFTER
            return RateLimited(f"{action} was rate limited", retry_after=retry_after)
        return SlackCallFailed(action, code)
    return PlatformError(f"{action} failed: {type(error).__name__}")


async def call_slack(action: str, call: Callable[[], Awaitable[T]]) -> T:
    """Run one Web API call, translating slack_sdk's errors."""
    try:
        return await call()
    except SlackClientError as exc:
        raise translate_error(exc, action) from exc


class SlackMessageSink:
    """Messages in one channel (or thread) posted and replaced whole."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        channel: str,
        thread_ts: str | None,
        renderer: SlackRenderer | None = None,
        status: str = "",
    ) -> None:
        self._client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self._renderer = renderer or SlackRenderer()
        self._status = status or notice("status_thinking", FALLBACK_LANGUAGE)

    async def post(self, message: RenderedMessage, *, final: Reply | None) -> str:
        fields = message_fields(message, final)
        response = await call_slack(
            "chat.postMessage",
            lambda: self._client.chat_postMessage(
                channel=self.channel, thread_ts=self.thread_ts, **fields
            ),
        )
        return str(response["ts"])

    async def update(
        self, message_id: str, message: RenderedMessage, *, final: Reply | None
    ) -> None:
        fields = message_fields(message, final)
        await call_slack(
            "chat.update",
            lambda: self._client.chat_update(channel=self.channel, ts=message_id, **fields),
        )

    async def remove(self, message_id: str) -> None:
        await call_slack(
            "chat.delete", lambda: self._client.chat_delete(channel=self.channel, ts=message_id)
        )

    async def preview(self, index: int, message: RenderedMessage) -> bool:
        return False  # Slack has no ephemeral drafts; streams are the live preview

    async def set_status(self) -> None:
        """Show the status ("is thinking…") under the thread until the first text; Slack
        clears it when the app replies there."""
        if self.thread_ts is None:
            return
        thread_ts = self.thread_ts
        await call_slack(
            "assistant.threads.setStatus",
            lambda: self._client.assistant_threads_setStatus(
                channel_id=self.channel, thread_ts=thread_ts, status=self._status
            ),
        )


@dataclass
class _Stream:
    """One streamed message: what it shows, and the helper while Slack still streams it."""

    source: str  # the Markdown the message shows
    helper: AsyncChatStream | None  # None once the stream ended (or never started)
    unsent: str = ""  # Markdown the helper still buffers after a call that failed


class SlackStreamSink(SlackMessageSink):
    """Streams a reply into a thread; falls back to post and update without losing text.

    `recipient` (user id, team id) is who the stream is for: Slack requires it outside DMs.
    `on_unavailable` is told when Slack refused streaming itself, so later replies post.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        channel: str,
        thread_ts: str,
        recipient: tuple[str, str] | None,
        renderer: SlackRenderer | None = None,
        status: str = "",
        on_unavailable: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(
            client, channel=channel, thread_ts=thread_ts, renderer=renderer, status=status
        )
        self._stream_thread = thread_ts
        self._recipient = recipient
        self._on_unavailable = on_unavailable
        self._streams: dict[str, _Stream] = {}
        self._posted: set[str] = set()  # messages of this sink that never streamed

    async def open(self, markdown: str) -> str:
        helper = await self._client.chat_stream(
            channel=self.channel,
            thread_ts=self._stream_thread,
            recipient_user_id=self._recipient[0] if self._recipient else None,
            recipient_team_id=self._recipient[1] if self._recipient else None,
            buffer_size=1,  # the pacer decides when to send; the helper sends every append
        )
        try:
            await helper.append(markdown_text=escape(markdown))
        except SlackApiError as exc:
            code = slack_error_code(exc)
            if code not in STREAMING_UNAVAILABLE:
                raise translate_error(exc, "chat.startStream") from exc
            logger.info("Slack refused to stream here (%s); posting and updating instead", code)
            if self._on_unavailable is not None:
                self._on_unavailable()
            message_id = await self.post(self._renderer.render(markdown), final=None)
            self._streams[message_id] = _Stream(markdown, None)
            return message_id
        except SlackClientError as exc:
            raise translate_error(exc, "chat.startStream") from exc
        if helper.ts is None:
            raise PlatformError("chat.startStream returned no message ts")
        self._streams[helper.ts] = _Stream(markdown, helper)
        return helper.ts

    async def append(self, message_id: str, markdown: str) -> None:
        stream = self._streams[message_id]
        # The helper still holds the text of a failed call: it is given only what is new.
        fresh = escape(markdown[len(stream.unsent) :])
        streaming = stream.helper is not None and markdown.startswith(stream.unsent)
        if streaming and await self._stream_call(
            stream,
            "chat.appendStream",
            lambda helper: helper.append(markdown_text=fresh),
            unsent=markdown,
        ):
            stream.source += markdown
            return
        await self._end_stream(stream, message_id)
        text = stream.source + markdown
        await self.update(message_id, self._renderer.render(text), final=None)

    async def close(self, message_id: str, *, final: Reply | None) -> None:
        stream = self._streams[message_id]
        blocks = feedback_blocks(final)
        if (
            stream.helper is not None
            and not stream.unsent
            and await self._stream_call(
                stream, "chat.stopStream", lambda helper: helper.stop(blocks=blocks or None)
            )
        ):
            stream.helper = None
            return
        await self._end_stream(stream, message_id)
        if blocks:
            await self.update(message_id, self._renderer.render(stream.source), final=final)

    async def _stream_call(
        self,
        stream: _Stream,
        action: str,
        call: Callable[[AsyncChatStream], Awaitable[object]],
        *,
        unsent: str = "",
    ) -> bool:
        """Make a call through the stream helper: True when it worked, False when the stream
        expired (it is then over, and its text stays as it was). `unsent` is what the helper
        keeps buffered if the call fails for another reason (that error is raised).
        """
        assert stream.helper is not None
        try:
            await call(stream.helper)
        except SlackApiError as exc:
            if slack_error_code(exc) == NOT_STREAMING:
                logger.info("the stream expired; continuing with chat.update")
                stream.helper, stream.unsent = None, ""
                return False
            stream.unsent = unsent
            raise translate_error(exc, action) from exc
        except SlackClientError as exc:
            stream.unsent = unsent
            raise translate_error(exc, action) from exc
        stream.unsent = ""
        return True

    async def post(self, message: RenderedMessage, *, final: Reply | None) -> str:
        message_id = await super().post(message, final=final)
        self._posted.add(message_id)
        return message_id

    async def update(
        self, message_id: str, message: RenderedMessage, *, final: Reply | None
    ) -> None:
        stream = self._streams.get(message_id)
        if stream is not None and stream.helper is not None:
            await self._end_stream(stream, message_id)
        elif stream is None and message_id not in self._posted:
            # A message an earlier attempt at this reply streamed (a queue worker that died):
            # its stream may still be open, and an open stream cannot be updated.
            await self._end_stream(_Stream("", None), message_id, force=True)
            self._posted.add(message_id)
        await super().update(message_id, message, final=final)
        if stream is not None:
            stream.source = message.source

    async def remove(self, message_id: str) -> None:
        stream = self._streams.pop(message_id, None)
        if stream is not None:
            await self._end_stream(stream, message_id)
        await super().remove(message_id)

    async def _end_stream(self, stream: _Stream, message_id: str, *, force: bool = False) -> None:
        """Stop a stream that is still open, so chat.update may replace the message.

        `force`: stop it also when this sink does not know it open (one it adopted).
        """
        if stream.helper is None and not force:
            return
        stream.helper = None
        stream.unsent = ""
        try:
            await self._client.chat_stopStream(channel=self.channel, ts=message_id)
        except SlackApiError as exc:
            if slack_error_code(exc) != NOT_STREAMING:
                raise translate_error(exc, "chat.stopStream") from exc
        except SlackClientError as exc:
            raise translate_error(exc, "chat.stopStream") from exc
