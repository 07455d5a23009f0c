"""The base of every chat platform adapter: events in through the intake, replies out streamed.

A platform adapter subclasses `StreamingAdapter` and supplies only what is the platform's:
connecting (`start`, `stop`, `connected`), turning payloads into core messages and votes
(its `translate.py`), and a `ReplyTarget` for each message (its sink). It hands every
message event to `receive` and every feedback press to `receive_vote`; claiming, ordering,
capacity, flood refusal, streaming, pacing, mention neutralising and shutdown draining are
done here the same way for every platform.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Awaitable, Callable

from adapters.base import Adapter, ChatHandler
from adapters.capabilities import Capabilities
from adapters.feedback import FeedbackVote, record_vote
from adapters.intake import EventIntake, IntakeLimits
from adapters.markdown import MarkdownRenderer
from adapters.pacer import Clock
from adapters.streaming import ReplyTarget, StreamingDelivery, language_hint
from core.errors import PlatformError
from core.messages import FinishReason, IncomingMessage, Reply, ReplyStream
from core.notices import notice
from core.queue.worker import current_reply

HandOff = Callable[[IncomingMessage], Awaitable[None]]

logger = logging.getLogger(__name__)


class EventNotTaken(PlatformError):
    """An event could not be handed on (the queue is unreachable): the platform must retry it."""


class StreamingAdapter(Adapter):
    """Owns intake and delivery; subclasses move bytes to and from their platform."""

    # Seconds the platform waits for the answer to a delivery before it counts it as failed
    # and delivers it again (Slack: 3); None when it waits as long as it takes. An ingress
    # gives up handing an event on before then, so the refusal is the answer Slack hears.
    answer_within: float | None = None

    def __init__(
        self,
        handler: ChatHandler,
        *,
        capabilities: Capabilities,
        renderer: MarkdownRenderer,
        clock: Clock | None = None,
        limits: IntakeLimits | None = None,
    ) -> None:
        super().__init__(handler)
        # True when each message is only handed on here (the ingress role): a platform that
        # waits for its delivery's answer (a webhook) then hears whether it was queued.
        self.deliveries_wait_for_answer = False
        self._hand_off: HandOff | None = None
        self.capabilities = capabilities
        self.delivery = StreamingDelivery(capabilities, renderer, clock=clock)
        self.intake = EventIntake(
            handler,
            platform=self.platform,
            answer=self.answer,
            refuse=self.refuse_flood,
            limits=limits,
        )

    @abstractmethod
    def reply_target(self, message: IncomingMessage) -> ReplyTarget:
        """Where the reply to `message` goes: its sink and waiting signal (no I/O here)."""

    def receive(self, event_id: str, message: IncomingMessage) -> bool:
        """Hand a message event to the intake; returns at once (False: refused, flooding)."""
        if not message.addressed_to_bot:
            return False
        return self.intake.submit(event_id, message)

    async def receive_and_wait(self, event_id: str, message: IncomingMessage) -> bool:
        """Hand a message event to the intake and wait for its fate; False: deliver it again.

        For deliveries the platform retries when they are refused (a webhook answered with an
        error, a Slack event left unacknowledged): nothing the bot could not take is dropped.
        """
        if not message.addressed_to_bot:
            return True
        return await self.intake.submit_and_wait(event_id, message)

    async def receive_vote(self, vote: FeedbackVote) -> bool:
        """Record a feedback press once; True when it was stored now (not a redelivery)."""
        return await record_vote(self.handler, self.platform, vote)

    @property
    def hands_off(self) -> bool:
        """True in an ingress: messages are handed on to the queue, never answered here."""
        return self._hand_off is not None

    def hand_off(self, hand_off: HandOff) -> None:
        """Ingress role: each accepted message goes to `hand_off` (the queue), not the dialog.

        A hand-off that raises a BloombridgeError leaves the event unanswered, and platforms
        that wait for the fate of a delivery are told to deliver it again.
        """
        self._hand_off = hand_off
        self.deliveries_wait_for_answer = True

    async def answer(self, message: IncomingMessage) -> None:
        """Answer one message: the dialog's reply stream, delivered to the message's target.

        In a queue worker the reply may resume an earlier attempt (`current_reply`): the
        messages that attempt posted are edited, and every message posted is recorded.
        """
        if self._hand_off is not None:
            await self._hand_off(message)
            return
        target = self.reply_target(message)
        resumed = current_reply.get()
        await self.delivery.deliver(
            message,
            self.handler.handle(message),
            target,
            adopted=resumed.adopted_ids if resumed is not None else (),
            on_messages=resumed.record if resumed is not None else None,
        )

    async def refuse_flood(self, message: IncomingMessage) -> None:
        """Tell the sender of a flooding conversation to wait, in their language."""
        language = language_hint(message)
        seconds = self.intake.limits.flood_wait_seconds
        text = notice("rate_limited", language, seconds=seconds)
        reply = Reply("", language, FinishReason.REJECTED, (text,))
        await self.delivery.deliver_reply(message, reply, self.reply_target(message))

    async def tell_not_taken(self, message: IncomingMessage) -> None:
        """Tell the sender their message was not taken and to send it again, in their language.

        For platforms that never deliver an event again (Discord's gateway): the user is the
        only one who can.
        """
        language = language_hint(message)
        reply = Reply("", language, FinishReason.REJECTED, (notice("not_taken", language),))
        try:
            await self.delivery.deliver_reply(message, reply, self.reply_target(message))
        except PlatformError as exc:
            logger.warning("could not tell the sender to send a message again: %s", exc)

    async def tell_queued(self, message: IncomingMessage, position: int) -> None:
        """Queue worker: tell the sender their message waits for the model, and its place.

        The notice is posted as the reply's first message and recorded like one
        (`current_reply`), so the reply, when it comes, replaces it: shown once per message.
        """
        language = language_hint(message)
        text = notice("queued", language, position=position)
        reply = Reply("", language, FinishReason.REJECTED, (text,))  # no answer yet: no rating
        resumed = current_reply.get()
        await self.delivery.deliver(
            message,
            ReplyStream.of(reply),
            self.reply_target(message),
            on_messages=resumed.record if resumed is not None else None,
        )

    async def drain(self) -> None:
        """Stop taking events and let replies in progress finish (bounded by the intake)."""
        await self.intake.close()
