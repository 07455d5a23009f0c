"""An adapter for the loopback chat platform, built only from the shared seam.

It is what a new platform package would hold (translate, sink, adapter), kept in the tests:
the contract runs against it to show that nothing in the seam assumes Telegram.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from adapters.base import ChatHandler
from adapters.capabilities import Capabilities, LengthUnit, MarkdownDialect, RateLimitOwner
from adapters.feedback import FeedbackVote, decode_vote, encode_vote, is_rated
from adapters.markdown import PassthroughRenderer, RenderedMessage
from adapters.pacer import Clock, RateLimited
from adapters.streaming import ReplyTarget
from adapters.streaming_adapter import StreamingAdapter
from core.errors import PlatformError
from core.messages import ConversationRef, IncomingMessage, PlaceKind, Reply, Sender
from tests.fakes.loopback_chat import ChatApiError, LoopbackChat

PLATFORM = "loopback"
WORKSPACE = "W1"
BOT_MENTION = "<@BOT>"

LOOPBACK_CAPABILITIES = Capabilities(
    platform=PLATFORM,
    max_message_length=3000,
    length_unit=LengthUnit.CODEPOINTS,
    markdown=MarkdownDialect.PLAIN,
    private_edit_interval=1.0,
    group_edit_interval=2.0,
    global_calls_per_second=20.0,
    space_calls_per_second=5.0,
    rate_limits=RateLimitOwner.PACER,
)

T = TypeVar("T")

# ----- translate: the only code that reads raw payloads ---------------------------------------


def conversation_of(event: Mapping[str, Any]) -> ConversationRef:
    thread = event.get("thread")
    if event["channel_type"] == "dm":
        kind = PlaceKind.PRIVATE
    else:
        kind = PlaceKind.GROUP if thread is None else PlaceKind.THREAD
    return ConversationRef(PLATFORM, WORKSPACE, event["channel"], thread, kind)


def to_incoming_message(event: Mapping[str, Any]) -> IncomingMessage | None:
    if event.get("type") != "message":
        return None
    text = str(event["text"])
    mentioned = text.startswith(BOT_MENTION)
    conversation = conversation_of(event)
    return IncomingMessage(
        id=str(event["ts"]),
        conversation=conversation,
        sender=Sender(event["user"]["id"], locale_hint=event["user"].get("locale")),
        text=text.removeprefix(BOT_MENTION).strip(),
        sent_at=datetime.now(UTC),
        addressed_to_bot=mentioned or conversation.is_private,
        raw=event,
    )


def to_feedback(event: Mapping[str, Any]) -> FeedbackVote | None:
    if event.get("type") != "vote":
        return None
    decoded = decode_vote(str(event["payload"]))
    if decoded is None:
        return None
    reply_id, value = decoded
    return FeedbackVote(
        str(event["id"]), conversation_of(event), reply_id, event["user"]["id"], value
    )


# ----- sink ------------------------------------------------------------------------------------


def controls(final: Reply | None) -> tuple[str, ...]:
    if final is None or not is_rated(final):
        return ()
    return (encode_vote(final.id, 1), encode_vote(final.id, -1))


async def call(action: str, request: Callable[[], Awaitable[T]]) -> T:
    try:
        return await request()
    except ChatApiError as exc:
        if exc.retry_after is not None:
            raise RateLimited(f"{action}: {exc.code}", retry_after=exc.retry_after) from exc
        raise PlatformError(f"{action} failed: {exc.code}") from exc


class LoopbackSink:
    """An `AppendSink`: one reply's streamed messages in one channel or thread."""

    def __init__(self, chat: LoopbackChat, channel: str, thread: str | None) -> None:
        self._chat = chat
        self._channel = channel
        self._thread = thread

    async def typing(self) -> None:
        await call("set_status", lambda: self._chat.set_status(self._channel, self._thread, "…"))

    async def open(self, markdown: str) -> str:
        return await call(
            "start_stream", lambda: self._chat.start_stream(self._channel, self._thread, markdown)
        )

    async def append(self, message_id: str, markdown: str) -> None:
        await call("append_stream", lambda: self._chat.append_stream(message_id, markdown))

    async def close(self, message_id: str, *, final: Reply | None) -> None:
        await call("stop_stream", lambda: self._chat.stop_stream(message_id, controls(final)))

    async def post(self, message: RenderedMessage, *, final: Reply | None) -> str:
        return await call(
            "post",
            lambda: self._chat.post(self._channel, self._thread, message.text, controls(final)),
        )

    async def update(
        self, message_id: str, message: RenderedMessage, *, final: Reply | None
    ) -> None:
        await call("update", lambda: self._chat.update(message_id, message.text, controls(final)))

    async def remove(self, message_id: str) -> None:
        await call("delete", lambda: self._chat.delete(message_id))


# ----- adapter ---------------------------------------------------------------------------------


class LoopbackAdapter(StreamingAdapter):
    """Connects the shared seam to the loopback platform; `on_event` is its event callback."""

    platform = PLATFORM

    def __init__(self, handler: ChatHandler, chat: LoopbackChat, *, clock: Clock) -> None:
        super().__init__(
            handler, capabilities=LOOPBACK_CAPABILITIES, renderer=PassthroughRenderer(), clock=clock
        )
        self.chat = chat
        self._running = False
        self._stopped = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self._running

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False
        await self.drain()
        self._stopped.set()

    async def run(self) -> None:
        await self._stopped.wait()

    async def on_event(self, event: Mapping[str, Any]) -> None:
        vote = to_feedback(event)
        if vote is not None:
            await self.receive_vote(vote)
            return
        message = to_incoming_message(event)
        if message is not None:
            self.receive(str(event["id"]), message)

    def reply_target(self, message: IncomingMessage) -> ReplyTarget:
        conversation = message.conversation
        sink = LoopbackSink(self.chat, conversation.channel, conversation.thread)
        return ReplyTarget(conversation, sink, waiting_signal=sink.typing)
