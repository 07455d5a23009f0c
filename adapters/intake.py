"""Event intake shared by every platform: claim in the store, order per conversation, dispatch.

The delivery guarantee (see adapters/README.md, tested in tests/adapters/test_intake.py and
by every platform's contract run):

- A message event is claimed in the store "in progress" for `claim_seconds` before it is
  answered; the claim is renewed while the reply runs and becomes "done" (kept for the
  dialog's dedup period) once the final message is shown. A redelivered event finds the
  claim and is not answered again: at most once in normal operation.
- A process that dies after claiming and before answering leaves only the short claim:
  when the platform redelivers the event after it expired, it is answered then. A reply
  that failed before its final message leaves the claim to expire the same way.
- When the claim itself cannot be made (the store is down), the message is answered anyway
  and the failure is logged: at least once beats never.

Messages of one conversation are answered one at a time in arrival order. Waiting messages
are queue entries, not running tasks: only each conversation's current message takes one
of `max_active_replies` slots, so a busy conversation never holds capacity others need. A
conversation with `max_waiting_per_conversation` messages already waiting is flooding: its
further messages are refused at once, and the sender is told (once per burst) to wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from adapters.base import ChatHandler
from core.errors import BloombridgeError
from core.messages import IncomingMessage
from core.ordering import ConversationQueues

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class IntakeLimits:
    """How much an adapter takes on at once, and how long claims and shutdown take."""

    max_active_replies: int = 32  # replies being answered at once, all conversations together
    max_waiting_per_conversation: int = 8  # more than this waiting means the chat is flooding
    claim_seconds: int = 60  # "in progress" claim; renewed every third of it while answering
    drain_seconds: float = 10.0  # at shutdown, replies in progress get this long to finish
    flood_wait_seconds: int = 30  # what the flood notice asks the sender to wait


@dataclass(frozen=True)
class _Event:
    event_id: str
    message: IncomingMessage


class EventIntake:
    """Takes a platform's message events and answers each through `answer`, per the guarantee.

    `submit` never waits: platform callbacks return at once, so the platform library's own
    concurrency limit is never spent on messages waiting for their conversation's turn.
    `refuse` tells a flooding conversation's sender to wait.
    """

    def __init__(
        self,
        handler: ChatHandler,
        *,
        platform: str,
        answer: Callable[[IncomingMessage], Awaitable[None]],
        refuse: Callable[[IncomingMessage], Awaitable[None]],
        limits: IntakeLimits | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._handler = handler
        self._platform = platform
        self._answer = answer
        self._refuse = refuse
        self.limits = limits or IntakeLimits()
        self._sleep = sleep
        self._queues: ConversationQueues[_Event] = ConversationQueues(
            self._process,
            capacity=self.limits.max_active_replies,
            max_waiting=self.limits.max_waiting_per_conversation,
        )
        self._flooded: set[str] = set()
        self._refusals: set[asyncio.Task[None]] = set()
        self.refused = 0  # messages refused because their conversation was flooding

    @property
    def busy_conversations(self) -> int:
        """Conversations with a message being answered or waiting."""
        return len(self._queues)

    def submit(self, event_id: str, message: IncomingMessage) -> bool:
        """Queue a message for its conversation; False when it was refused (flood or closing)."""
        key = message.conversation.key
        if self._queues.closed:
            logger.info("shutting down; event %s is left for redelivery", event_id)
            return False
        if self._queues.offer(key, _Event(event_id, message)):
            return True
        self.refused += 1
        logger.info("conversation is flooding; refused event %s", event_id)
        if key not in self._flooded:
            self._flooded.add(key)
            task = asyncio.create_task(self._tell_to_wait(message))
            self._refusals.add(task)
            task.add_done_callback(self._refusals.discard)
        return False

    async def _tell_to_wait(self, message: IncomingMessage) -> None:
        try:
            await self._refuse(message)
        except BloombridgeError as exc:
            logger.warning("could not tell a flooding conversation to wait: %s", exc)

    async def _process(self, event: _Event) -> None:
        key = event.message.conversation.key
        if self._queues.waiting(key) == 0:
            self._flooded.discard(key)  # caught up: the next burst gets its own notice
        if not await self._claim(event):
            logger.info("event %s was already answered", event.event_id)
            return
        keeper = asyncio.create_task(self._keep_claimed(event))
        try:
            await self._answer(event.message)
        except BloombridgeError as exc:
            # The claim stays "in progress" and expires: a redelivery will be answered.
            logger.warning("could not answer event %s: %s", event.event_id, exc)
            return
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        await self._hold(event, None)

    async def _claim(self, event: _Event) -> bool:
        try:
            return await self._handler.claim_event(
                self._platform, event.event_id, hold_seconds=self.limits.claim_seconds
            )
        except BloombridgeError as exc:
            logger.warning("could not claim event %s, answering it anyway: %s", event.event_id, exc)
            return True

    async def _hold(self, event: _Event, seconds: int | None) -> None:
        try:
            await self._handler.hold_event(self._platform, event.event_id, hold_seconds=seconds)
        except BloombridgeError as exc:
            logger.warning("could not update the claim of event %s: %s", event.event_id, exc)

    async def _keep_claimed(self, event: _Event) -> None:
        """Renew the "in progress" claim while a long reply is still being written."""
        while True:
            await self._sleep(self.limits.claim_seconds / 3)
            await self._hold(event, self.limits.claim_seconds)

    async def close(self) -> None:
        """Take no more events; replies in progress get `drain_seconds`, then are cancelled."""
        await self._queues.close(self.limits.drain_seconds)
        for task in list(self._refusals):
            task.cancel()
        if self._refusals:
            await asyncio.wait(list(self._refusals))
