"""Pacing a streaming reply: call slots per chat and per bot, flood waits, and the final text."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from core.errors import BloombridgeError, PlatformError, ReplyDeferred
from core.messages import FinishReason, Reply, ReplyStream
from core.notices import FALLBACK_LANGUAGE, notice

logger = logging.getLogger(__name__)

# Drop per-chat slot records once this many accumulate (only those already in the past go).
_PRUNE_AT = 4096


class RateLimited(PlatformError):
    """The platform asked the bot to wait `retry_after` seconds before calling again for a chat."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Clock(Protocol):
    """Time for pacing; tests pass a virtual one so that no test really waits."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The event loop's monotonic time."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class RateGate:
    """Hands out call slots: a chat gets one per its interval, and all chats share a global rate.

    Platforms that also budget calls per workspace or server (Slack, Discord) pass
    `space_calls_per_second`; each space then has its own shared rate as well. A slot is
    reserved when it is handed out, so concurrent replies never take the same one.
    """

    def __init__(
        self,
        *,
        calls_per_second: float,
        space_calls_per_second: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self._global_interval = 1.0 / calls_per_second
        self._space_interval = 1.0 / space_calls_per_second if space_calls_per_second else 0.0
        self._global_next = 0.0
        self._chat_next: dict[str, float] = {}
        self._space_next: dict[str, float] = {}
        # Told of every flood wait (seconds): the bot's metrics count them.
        self.on_pause: Callable[[float], None] | None = None

    def _due(self, chat: str) -> float:
        return max(self._chat_next.get(chat, 0.0), self._global_next)

    async def wait(self, chat: str) -> None:
        """Wait until `chat` could make a call, without reserving it."""
        delay = self._due(chat) - self.clock.now()
        if delay > 0:
            await self.clock.sleep(delay)

    async def acquire(self, chat: str, interval: float, *, space: str | None = None) -> None:
        """Wait for and take the next slot of `chat`; its following slot is `interval` later.

        The chat's slot is taken first, then the space's and the bot-wide one when they
        are due: a chat waiting for its own interval never holds back the other chats.
        """
        now = self.clock.now()
        slot = max(now, self._chat_next.get(chat, 0.0))
        if len(self._chat_next) >= _PRUNE_AT:
            self._chat_next = {key: due for key, due in self._chat_next.items() if due > now}
        if len(self._space_next) >= _PRUNE_AT:
            self._space_next = {key: due for key, due in self._space_next.items() if due > now}
        self._chat_next[chat] = slot + interval
        if slot > now:
            await self.clock.sleep(slot - now)
        if space is not None and self._space_interval > 0:
            now = self.clock.now()
            space_slot = max(now, self._space_next.get(space, 0.0))
            self._space_next[space] = space_slot + self._space_interval
            if space_slot > now:
                await self.clock.sleep(space_slot - now)
        now = self.clock.now()
        shared = max(now, self._global_next)
        self._global_next = shared + self._global_interval
        if shared > now:
            await self.clock.sleep(shared - now)

    def pause(self, chat: str, seconds: float) -> None:
        """Give `chat` no slot for `seconds` (the platform's flood wait)."""
        resume_at = self.clock.now() + seconds
        self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), resume_at)
        if self.on_pause is not None:
            self.on_pause(seconds)


Publish = Callable[[str, Reply | None], Awaitable[None]]
"""Shows a text: (Markdown, None) while streaming, (final display text, Reply) at the end."""


class ReplyPacer:
    """Shows a ReplyStream through a publish callable no faster than the gate allows.

    Snapshots that arrive while a chat waits for its slot are merged into the newest one;
    a text equal to the one shown is never published again; a flood wait pauses the chat
    and the text is retried after it. The final text is always published, waiting out as
    many flood waits as the platform asks for (up to `max_final_attempts`).
    """

    def __init__(
        self,
        gate: RateGate,
        *,
        max_final_attempts: int = 8,
        waiting_signal_interval: float = 4.0,
    ) -> None:
        self.gate = gate
        self.max_final_attempts = max_final_attempts
        self.waiting_signal_interval = waiting_signal_interval

    async def deliver(
        self,
        stream: ReplyStream,
        publish: Publish,
        *,
        chat: str,
        on_waiting: Callable[[], Awaitable[None]] | None = None,
        fallback_language: str = FALLBACK_LANGUAGE,
    ) -> Reply:
        """Consume `stream`, publish it paced, and return the final reply once it is shown.

        Every path ends the reply: when the stream raises (a store or model failure after
        text was cleared), the final message is the text cleared so far plus a short notice
        in `fallback_language`, and that is the reply returned.
        """
        latest = ""
        changed = asyncio.Event()
        first_shown = asyncio.Event()

        async def consume() -> None:
            nonlocal latest
            try:
                async for snapshot in stream:
                    latest = snapshot
                    changed.set()
            finally:
                # Also when the stream raises: the loop below must wake up and end the reply.
                changed.set()

        consumer = asyncio.create_task(consume())
        signal = (
            asyncio.create_task(self._signal_waiting(on_waiting, first_shown))
            if on_waiting is not None
            else None
        )
        try:
            shown = ""
            while True:
                await changed.wait()
                if consumer.done():
                    break
                changed.clear()
                if latest == shown or not latest.strip():
                    continue
                await self.gate.wait(chat)  # more snapshots may arrive meanwhile
                if consumer.done():
                    break
                text = latest
                try:
                    await publish(text, None)
                except RateLimited as exc:
                    self.gate.pause(chat, exc.retry_after)
                    changed.set()
                    continue
                except PlatformError as exc:
                    # A lost intermediate update is repaired by the next one or the final text.
                    logger.warning("could not show a partial reply: %s", exc)
                    continue
                shown = text
                first_shown.set()
            reply = self._final_reply(consumer, stream, latest, fallback_language)
            first_shown.set()
            await self._publish_final(reply, publish, chat)
            return reply
        finally:
            tasks = [task for task in (consumer, signal) if task is not None and not task.done()]
            for task in tasks:
                task.cancel()
            await _until_finished(tasks)
            # Also after the final reply: the dialog's generator is suspended at its last
            # yield, holding the conversation's lock until it is closed (garbage collection
            # may take long when a cycle holds it).
            await stream.aclose()

    @staticmethod
    def _final_reply(
        consumer: asyncio.Task[None], stream: ReplyStream, latest: str, language: str
    ) -> Reply:
        """The stream's own final reply, or the cleared text and a notice when it failed."""
        failure = consumer.exception()
        if isinstance(failure, ReplyDeferred) and not latest.strip():
            raise failure  # nothing shown: the queue answers the message later
        if failure is None:
            try:
                return stream.reply
            except RuntimeError as exc:  # the stream ended without a final reply
                failure = exc
        if isinstance(failure, BloombridgeError):
            logger.warning("a reply stream failed, ending the reply with a notice: %s", failure)
        else:
            logger.error("a reply stream failed, ending the reply with a notice", exc_info=failure)
        if latest.strip():
            return Reply(
                latest, language, FinishReason.INTERRUPTED, (notice("interrupted", language),)
            )
        return Reply("", language, FinishReason.ERROR, (notice("model_error", language),))

    async def _publish_final(self, reply: Reply, publish: Publish, chat: str) -> None:
        for _ in range(self.max_final_attempts):
            try:
                await publish(reply.display_text, reply)
                return
            except RateLimited as exc:
                logger.info("flood wait of %.0f s before the final text", exc.retry_after)
                self.gate.pause(chat, exc.retry_after)
        raise PlatformError(
            f"the final reply was still rate limited after {self.max_final_attempts} attempts"
        )

    async def _signal_waiting(
        self, on_waiting: Callable[[], Awaitable[None]], first_shown: asyncio.Event
    ) -> None:
        """Repeat the waiting signal (typing indicator) until the first text is shown."""
        while not first_shown.is_set():
            try:
                await on_waiting()
            except PlatformError as exc:
                logger.debug("waiting signal failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(first_shown.wait(), self.waiting_signal_interval)


async def _until_finished(tasks: list[asyncio.Task[None]]) -> None:
    """Wait until `tasks` (cancelled) have finished, even while this task is cancelled again.

    Closing the reply stream while its consumer is still inside it would leave the dialog's
    generator half closed, holding the conversation's lock and a model slot for good.
    """
    cancelled = False
    while not all(task.done() for task in tasks):
        try:
            await asyncio.wait(tasks)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
