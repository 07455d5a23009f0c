"""A small chat platform living in the test process, with an append-only streaming API.

It is the second platform the adapter contract runs against, shaped unlike Telegram on
purpose: live messages only grow (open / append / close, like Slack's chat.startStream /
appendStream / stopStream), a closed message can be replaced whole, channels belong to a
workspace, threads are named by their parent, and a "too many requests" answer carries
`retry_after`. Every call is recorded with the virtual time it was made at.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field


class ChatApiError(Exception):
    """An error answer of the loopback platform's API."""

    def __init__(self, code: str, *, retry_after: float | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after


@dataclass
class LoopbackMessage:
    """A bot message as the platform shows it."""

    message_id: str
    channel: str
    thread: str | None
    text: str
    streaming: bool
    controls: tuple[str, ...] = ()  # payloads of the buttons under it
    deleted: bool = False


@dataclass(frozen=True)
class LoopbackCall:
    """One API call: method, channel and thread, the message text after it, virtual time."""

    method: str
    channel: str
    thread: str | None
    message_id: str
    text: str
    at: float
    controls: tuple[str, ...] = ()
    failed: str | None = None


@dataclass
class LoopbackChat:
    """The platform: `clock` stamps calls; `fail_next` makes the next changing call fail."""

    clock: Callable[[], float]
    messages: list[LoopbackMessage] = field(default_factory=list)
    calls: list[LoopbackCall] = field(default_factory=list)
    failures: dict[str, ChatApiError] = field(default_factory=dict)  # channel -> next failure

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()

    async def wait_until(self, condition: Callable[[], bool], within: float = 10.0) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(condition)

    async def _record(self, call: LoopbackCall) -> None:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    async def _check(self, method: str, message: LoopbackMessage, text: str) -> None:
        failure = self.failures.pop(message.channel, None)
        if failure is not None:
            await self._record(
                LoopbackCall(
                    method,
                    message.channel,
                    message.thread,
                    message.message_id,
                    text,
                    self.clock(),
                    failed=failure.code,
                )
            )
            raise failure

    def _find(self, message_id: str) -> LoopbackMessage:
        for message in self.messages:
            if message.message_id == message_id and not message.deleted:
                return message
        raise ChatApiError("message_not_found")

    async def _changed_message(self, method: str, message: LoopbackMessage) -> None:
        await self._record(
            LoopbackCall(
                method,
                message.channel,
                message.thread,
                message.message_id,
                message.text,
                self.clock(),
                message.controls,
            )
        )

    # ----- the API -------------------------------------------------------------------------

    async def start_stream(self, channel: str, thread: str | None, text: str) -> str:
        message = LoopbackMessage(f"m{next(self._ids)}", channel, thread, text, streaming=True)
        await self._check("start_stream", message, text)
        self.messages.append(message)
        await self._changed_message("start_stream", message)
        return message.message_id

    async def append_stream(self, message_id: str, text: str) -> None:
        message = self._find(message_id)
        if not message.streaming:
            raise ChatApiError("message_not_in_streaming_state")
        await self._check("append_stream", message, message.text + text)
        message.text += text
        await self._changed_message("append_stream", message)

    async def stop_stream(self, message_id: str, controls: tuple[str, ...]) -> None:
        message = self._find(message_id)
        if not message.streaming:
            raise ChatApiError("message_not_in_streaming_state")
        message.streaming = False
        message.controls = controls
        await self._changed_message("stop_stream", message)

    async def post(
        self, channel: str, thread: str | None, text: str, controls: tuple[str, ...]
    ) -> str:
        message = LoopbackMessage(f"m{next(self._ids)}", channel, thread, text, False, controls)
        await self._check("post", message, text)
        self.messages.append(message)
        await self._changed_message("post", message)
        return message.message_id

    async def update(self, message_id: str, text: str, controls: tuple[str, ...]) -> None:
        message = self._find(message_id)
        if message.streaming:
            raise ChatApiError("cant_update_message_while_streaming")
        await self._check("update", message, text)
        message.text, message.controls = text, controls
        await self._changed_message("update", message)

    async def delete(self, message_id: str) -> None:
        message = self._find(message_id)
        message.deleted = True
        await self._changed_message("delete", message)

    async def set_status(self, channel: str, thread: str | None, status: str) -> None:
        await self._record(LoopbackCall("set_status", channel, thread, "", status, self.clock()))

    def visible(self, channel: str, thread: str | None) -> list[LoopbackMessage]:
        return [
            m
            for m in self.messages
            if m.channel == channel and m.thread == thread and not m.deleted
        ]
