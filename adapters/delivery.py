"""The messages that show one reply: posted, updated, previewed and removed as the text grows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from adapters.capabilities import Capabilities
from adapters.markdown import MarkdownRenderer, RenderedMessage, layout_messages
from core.messages import Reply


class MessageSink(Protocol):
    """The platform side of one reply; every method is one API call.

    `final` is the finished Reply when the message is the last one of it (the platform may
    attach feedback controls), else None. Errors are `core.errors.PlatformError` subclasses,
    `adapters.pacer.RateLimited` for flood waits.
    """

    async def post(self, message: RenderedMessage, *, final: Reply | None) -> str:
        """Send a new message; returns its platform id."""
        ...

    async def update(
        self, message_id: str, message: RenderedMessage, *, final: Reply | None
    ) -> None:
        """Replace the content of a message this sink posted."""
        ...

    async def remove(self, message_id: str) -> None:
        """Delete a message this sink posted."""
        ...

    async def preview(self, index: int, message: RenderedMessage) -> bool:
        """Show an ephemeral preview of message `index`; False when the platform has none."""
        ...


@runtime_checkable
class AppendSink(Protocol):
    """The platform side of one reply on a platform whose live messages only grow.

    Slack's `chat.startStream` / `chat.appendStream` / `chat.stopStream` work this way: a
    streamed message is opened with its first text, grows by appended Markdown, and is
    closed; once closed it is an ordinary message that `update` can replace whole. `final`
    is as for `MessageSink`; errors too.
    """

    async def open(self, markdown: str) -> str:
        """Start a streamed message showing `markdown`; returns its platform id."""
        ...

    async def append(self, message_id: str, markdown: str) -> None:
        """Add `markdown` at the end of an open streamed message."""
        ...

    async def close(self, message_id: str, *, final: Reply | None) -> None:
        """End a streamed message; its text stays as appended."""
        ...

    async def post(self, message: RenderedMessage, *, final: Reply | None) -> str:
        """Send a new, complete message; returns its platform id."""
        ...

    async def update(
        self, message_id: str, message: RenderedMessage, *, final: Reply | None
    ) -> None:
        """Replace the content of a closed message this sink sent."""
        ...

    async def remove(self, message_id: str) -> None:
        """Delete a message this sink sent (closing it first if it is still open)."""
        ...


OnMessages = Callable[[list[str]], Awaitable[None]]
"""Hears the reply's platform message ids each time a message was posted or removed."""


class ReplyView(Protocol):
    """Keeps a reply's platform messages equal to its newest text (what the pacer publishes to)."""

    @property
    def message_ids(self) -> list[str]:
        """Ids of the reply's messages, in reading order."""
        ...

    def adopt(self, message_ids: Sequence[str], on_messages: OnMessages | None) -> None:
        """Continue a reply an earlier attempt began: its messages are edited, never re-posted."""
        ...

    async def show(self, markdown: str, final: Reply | None = None) -> None:
        """Make the visible messages show `markdown`; `final` marks the reply as finished."""
        ...


@dataclass
class _Posted:
    message_id: str
    shown: RenderedMessage | None  # None: adopted from an earlier attempt, content unknown
    final: bool


class ReplyMessages:
    """Keeps a reply's platform messages equal to its newest text, with as few calls as possible.

    The text is laid out into messages within the platform limit; a message whose content
    is unchanged is never sent again. While streaming, the growing last message is shown as
    a preview when the sink supports it (earlier ones are posted for good); otherwise it is
    posted once and then updated. `before_call` runs before every API call (the rate gate).
    """

    def __init__(
        self,
        sink: MessageSink,
        capabilities: Capabilities,
        renderer: MarkdownRenderer,
        *,
        before_call: Callable[[], Awaitable[None]],
        use_previews: bool = False,
    ) -> None:
        self._sink = sink
        self._capabilities = capabilities
        self._renderer = renderer
        self._before_call = before_call
        self.use_previews = use_previews and capabilities.supports_drafts
        self._posted: list[_Posted] = []
        self._previewed: tuple[int, str] | None = None
        self._on_messages: OnMessages | None = None

    def adopt(self, message_ids: Sequence[str], on_messages: OnMessages | None) -> None:
        self._posted = [_Posted(message_id, None, False) for message_id in message_ids]
        self._on_messages = on_messages

    @property
    def message_ids(self) -> list[str]:
        """Ids of the messages posted so far, in reading order."""
        return [posted.message_id for posted in self._posted]

    async def show(self, markdown: str, final: Reply | None = None) -> None:
        """Make the visible messages show `markdown`; `final` marks the reply as finished."""
        messages = layout_messages(markdown, self._capabilities, self._renderer)
        last = len(messages) - 1
        for index, message in enumerate(messages):
            mark = final if index == last else None
            # Only a message not yet posted is previewed; a posted one is updated instead.
            is_live = index == last and final is None and self.use_previews
            if is_live and index >= len(self._posted):
                if await self._preview(index, message):
                    continue
                # The refused preview used this slot; the platform did not count it.
                await self._put(index, message, mark, paced=False)
                continue
            await self._put(index, message, mark)
        extras = self._posted[len(messages) :]
        for extra in extras:
            await self._before_call()
            await self._sink.remove(extra.message_id)
        del self._posted[len(messages) :]
        if extras:
            await self._changed()

    async def _changed(self) -> None:
        if self._on_messages is not None:
            await self._on_messages(self.message_ids)

    async def _preview(self, index: int, message: RenderedMessage) -> bool:
        """Preview the message; False (previews now off) when the platform refused it."""
        if self._previewed == (index, message.source):
            return True
        await self._before_call()
        if await self._sink.preview(index, message):
            self._previewed = (index, message.source)
            return True
        self.use_previews = False
        return False

    async def _put(
        self, index: int, message: RenderedMessage, final: Reply | None, *, paced: bool = True
    ) -> None:
        if index < len(self._posted):
            posted = self._posted[index]
            shown = posted.shown
            if (
                shown is not None
                and shown.source == message.source
                and posted.final == (final is not None)
            ):
                return
            if paced:
                await self._before_call()
            await self._sink.update(posted.message_id, message, final=final)
            self._posted[index] = _Posted(posted.message_id, message, final is not None)
            return
        if paced:
            await self._before_call()
        message_id = await self._sink.post(message, final=final)
        self._posted.append(_Posted(message_id, message, final is not None))
        await self._changed()


@dataclass
class _Streamed:
    message_id: str
    source: str  # the Markdown the message shows now
    open: bool
    final: bool


class AppendedReply:
    """`ReplyView` for append-only sinks: grows streamed messages, repairs them when text changes.

    While a message's new text extends what was appended, only the difference is appended.
    When a guard cut or replaced text that was already appended, the message is closed and
    replaced whole, so the final text is always exactly the reply's. A message that is
    complete before it was ever shown is posted whole instead of streamed.
    """

    def __init__(
        self,
        sink: AppendSink,
        capabilities: Capabilities,
        renderer: MarkdownRenderer,
        *,
        before_call: Callable[[], Awaitable[None]],
    ) -> None:
        self._sink = sink
        self._capabilities = capabilities
        self._renderer = renderer
        self._before_call = before_call
        self._streamed: list[_Streamed] = []
        self._on_messages: OnMessages | None = None

    @property
    def message_ids(self) -> list[str]:
        """Ids of the messages sent so far, in reading order."""
        return [streamed.message_id for streamed in self._streamed]

    def adopt(self, message_ids: Sequence[str], on_messages: OnMessages | None) -> None:
        # Adopted messages are replaced whole: what an earlier attempt streamed is unknown.
        self._streamed = [_Streamed(message_id, "", False, False) for message_id in message_ids]
        self._on_messages = on_messages

    async def _changed(self) -> None:
        if self._on_messages is not None:
            await self._on_messages(self.message_ids)

    async def show(self, markdown: str, final: Reply | None = None) -> None:
        count = len(self._streamed)
        await self._show(markdown, final)
        if len(self._streamed) != count:
            await self._changed()

    async def _show(self, markdown: str, final: Reply | None) -> None:
        messages = layout_messages(markdown, self._capabilities, self._renderer)
        last = len(messages) - 1
        for index, message in enumerate(messages):
            mark = final if index == last else None
            # Earlier messages never grow again once a later one exists.
            complete = mark is not None or index < last
            if index >= len(self._streamed):
                await self._start(message, mark, complete=complete)
            else:
                await self._advance(self._streamed[index], message, mark, complete=complete)
        for extra in self._streamed[len(messages) :]:
            await self._before_call()
            await self._sink.remove(extra.message_id)
        del self._streamed[len(messages) :]

    async def _start(
        self, message: RenderedMessage, final: Reply | None, *, complete: bool
    ) -> None:
        await self._before_call()
        if complete:
            message_id = await self._sink.post(message, final=final)
            self._streamed.append(_Streamed(message_id, message.source, False, final is not None))
            return
        message_id = await self._sink.open(message.source)
        self._streamed.append(_Streamed(message_id, message.source, True, False))

    async def _advance(
        self, streamed: _Streamed, message: RenderedMessage, final: Reply | None, *, complete: bool
    ) -> None:
        if streamed.open:
            if message.source.startswith(streamed.source):
                delta = message.source[len(streamed.source) :]
                if delta:
                    await self._before_call()
                    await self._sink.append(streamed.message_id, delta)
                    streamed.source = message.source
                if complete:
                    await self._before_call()
                    await self._sink.close(streamed.message_id, final=final)
                    streamed.open, streamed.final = False, final is not None
                return
            # Appended text was cut or replaced: end the stream, then replace the message whole.
            await self._before_call()
            await self._sink.close(streamed.message_id, final=None)
            streamed.open = False
        if streamed.source == message.source and streamed.final == (final is not None):
            return
        await self._before_call()
        await self._sink.update(streamed.message_id, message, final=final)
        streamed.source, streamed.final = message.source, final is not None
