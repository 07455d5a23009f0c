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

A platform that learns the fate of an event from the answer to its delivery (a webhook
POST, a Slack acknowledgement) uses `submit_and_wait`: it returns once the event was
answered (or handed on), and False when it was not, so the platform is told to deliver it
again; the event's claim is then cut short so that the redelivery is taken.

Messages of one conversation are answered one at a time in arrival order. Waiting messages
are queue entries, not running tasks: only each conversation's current message takes one
of `max_active_replies` slots, so a busy conversation never holds capacity others need. A
conversation with `max_waiting_per_conversation` messages already waiting is flooding: its
further messages are refused at once, and the sender is told (once per burst) to wait.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from adapters.base import ChatHandler
from core.errors import BloombridgeError
from core.log_context import message_ids
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


# A refused event's claim lasts this long (the store's shortest), so the redelivery it asked
# for is taken instead of being dropped as a repeat.
_REFUSED_CLAIM_SECONDS = 1


@dataclass(frozen=True)
class _Event:
    event_id: str
    message: IncomingMessage
    # Set when the platform waits for the event's fate: True answered, False not (deliver again).
    outcome: asyncio.Future[bool] | None = field(default=None, compare=False)

    def settle(self, answered: bool) -> None:
        if self.outcome is not None and not self.outcome.done():
            self.outcome.set_result(answered)


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
        self._awaited: set[asyncio.Future[bool]] = set()
        self.refused = 0  # messages refused because their conversation was flooding

    @property
    def busy_conversations(self) -> int:
        """Conversations with a message being answered or waiting."""
        return len(self._queues)

    def submit(self, event_id: str, message: IncomingMessage) -> bool:
        """Queue a message for its conversation; False when it was refused (flood or closing)."""
        return self._offer(_Event(event_id, message))

    async def submit_and_wait(self, event_id: str, message: IncomingMessage) -> bool:
        """Queue a message and wait for its fate; False: not answered, the platform must retry.

        True once it was answered (or handed on), when it had been answered already, and when
        it was refused because its conversation is flooding (the sender is told to wait).
        False when answering it failed or the intake is closing.
        """
        outcome: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if not self._offer(_Event(event_id, message, outcome)):
            return not self._queues.closed
        self._awaited.add(outcome)
        try:
            return await outcome
        finally:
            self._awaited.discard(outcome)

    def _offer(self, event: _Event) -> bool:
        message = event.message
        key = message.conversation.key
        if self._queues.closed:
            logger.info("shutting down; event %s is left for redelivery", event.event_id)
            return False
        if self._queues.offer(key, event):
            return True
        self.refused += 1
        logger.info("conversation is flooding; refused event %s", event.event_id)
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
        try:
            with message_ids(event.message, event_id=event.event_id):
                event.settle(await self._answer_once(event))
        finally:
            event.settle(False)  # cancelled at shutdown, or a bug: the platform must retry

    async def _answer_once(self, event: _Event) -> bool:
        """Claim and answer the event; False when it was not answered."""
        key = event.message.conversation.key
        if self._queues.waiting(key) == 0:
            self._flooded.discard(key)  # caught up: the next burst gets its own notice
        if not await self._claim(event):
            logger.info("event %s was already answered", event.event_id)
            return True
        keeper = asyncio.create_task(self._keep_claimed(event))
        try:
            await self._answer(event.message)
        except BloombridgeError as exc:
            # The claim stays "in progress" and expires: a redelivery will be answered. When
            # the platform is told to deliver again now, the claim must not turn it away.
            logger.warning("could not answer event %s: %s", event.event_id, exc)
            if event.outcome is not None:
                await self._hold(event, _REFUSED_CLAIM_SECONDS)
            return False
        finally:
            await self._stop_keeper(event, keeper)
        event.settle(True)  # answered: the platform need not wait for the bookkeeping
        await self._hold(event, None)
        return True

    @staticmethod
    async def _stop_keeper(event: _Event, keeper: asyncio.Task[None]) -> None:
        """Stop renewing the claim; a failed renewal is logged, never this reply's outcome.

        Awaiting the keeper directly would raise its error in place of a cancellation of
        the reply (at shutdown), and the conversation would go on to its next message.
        """
        keeper.cancel()
        await asyncio.wait([keeper])
        if not keeper.cancelled() and (failure := keeper.exception()) is not None:
            logger.error("renewing the claim of event %s failed", event.event_id, exc_info=failure)

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
        for outcome in self._awaited:
            if not outcome.done():
                outcome.set_result(False)  # never started: the platform delivers it again
        for task in list(self._refusals):
            task.cancel()
        if self._refusals:
            await asyncio.wait(list(self._refusals))
