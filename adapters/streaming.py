"""Streaming delivery shared by every platform: rate gate, message bookkeeping, pacing, typing.

A platform adapter describes where one reply goes (`ReplyTarget`: a sink, the conversation,
the waiting signal); `StreamingDelivery.deliver` does the rest, the same on every platform:
mentions are neutralised where they notify, the text is laid out within the platform's
limit, message changes are paced per chat, per space and per bot, flood waits pause only
their chat, and the reply always ends with a final message, also when the reply stream
fails mid-way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from adapters.capabilities import Capabilities, MarkdownDialect
from adapters.delivery import (
    AppendedReply,
    AppendSink,
    MessageSink,
    OnMessages,
    ReplyMessages,
    ReplyView,
)
from adapters.markdown import MarkdownRenderer
from adapters.mentions import neutralize_mentions
from adapters.pacer import Clock, RateGate, ReplyPacer
from core.messages import ConversationRef, IncomingMessage, Reply, ReplyStream
from core.notices import FALLBACK_LANGUAGE


@dataclass(frozen=True)
class ReplyTarget:
    """Where one reply goes, as the platform adapter describes it.

    `sink` makes the API calls: a `MessageSink` (messages replaced whole) or an
    `AppendSink` (streamed messages that only grow). `waiting_signal` shows "typing…" or a
    similar status until the first text; `use_previews` lets a `MessageSink` show the
    growing last message as an ephemeral preview (Telegram drafts).
    """

    conversation: ConversationRef
    sink: MessageSink | AppendSink
    waiting_signal: Callable[[], Awaitable[None]] | None = None
    use_previews: bool = False


def language_hint(message: IncomingMessage) -> str:
    """The language to use for the bot's own words before the dialog has chosen one."""
    hint = message.sender.locale_hint or FALLBACK_LANGUAGE
    return hint.replace("_", "-").lower()


def rate_key(conversation: ConversationRef) -> str:
    """The chat a platform budgets message changes by: threads share their channel's budget."""
    return ConversationRef(conversation.platform, conversation.space, conversation.channel).key


class StreamingDelivery:
    """Shows ReplyStreams on one platform, within its capabilities and rate limits."""

    def __init__(
        self,
        capabilities: Capabilities,
        renderer: MarkdownRenderer,
        *,
        clock: Clock | None = None,
        max_final_attempts: int = 8,
    ) -> None:
        self.capabilities = capabilities
        self.renderer = renderer
        self.gate = RateGate(
            calls_per_second=capabilities.global_calls_per_second,
            space_calls_per_second=capabilities.space_calls_per_second,
            clock=clock,
        )
        self.pacer = ReplyPacer(self.gate, max_final_attempts=max_final_attempts)

    def view(self, target: ReplyTarget) -> ReplyView:
        """The message bookkeeping for one reply to `target`, its calls paced by the gate."""
        conversation = target.conversation
        chat = rate_key(conversation)
        interval = self.capabilities.edit_interval_for(conversation.kind)

        async def before_call() -> None:
            await self.gate.acquire(chat, interval, space=conversation.space)

        if isinstance(target.sink, AppendSink):
            return AppendedReply(
                target.sink, self.capabilities, self.renderer, before_call=before_call
            )
        return ReplyMessages(
            target.sink,
            self.capabilities,
            self.renderer,
            before_call=before_call,
            use_previews=target.use_previews,
        )

    async def deliver(
        self,
        message: IncomingMessage,
        stream: ReplyStream,
        target: ReplyTarget,
        *,
        adopted: Sequence[str] = (),
        on_messages: OnMessages | None = None,
    ) -> Reply:
        """Show `stream` (the answer to `message`) at `target`; returns the final reply shown.

        `adopted` are the messages an earlier attempt at this reply posted (a queue worker
        resuming after a crash): they are edited into this reply instead of posting anew.
        `on_messages` hears the reply's message ids whenever a message was posted or removed.
        """
        view = self.view(target)
        view.adopt(adopted, on_messages)

        async def publish(markdown: str, final: Reply | None) -> None:
            if final is not None and self.capabilities.markdown is MarkdownDialect.PLAIN:
                # Nothing is formatted: notices are shown as written, not italic and escaped.
                markdown = final.plain_text
            if self.capabilities.notifies_mentions:
                markdown = neutralize_mentions(markdown)
            await view.show(markdown, final)

        return await self.pacer.deliver(
            stream,
            publish,
            chat=rate_key(target.conversation),
            on_waiting=target.waiting_signal,
            fallback_language=language_hint(message),
        )

    async def deliver_reply(
        self, message: IncomingMessage, reply: Reply, target: ReplyTarget
    ) -> Reply:
        """Show a reply decided without the dialog (a flood notice) at `target`."""
        return await self.deliver(message, ReplyStream.of(reply), target)
