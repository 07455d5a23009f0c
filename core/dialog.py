"""The dialog manager: from an incoming message to a guarded, streamed, recorded reply."""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence

from core.admission import Admission
from core.commands import CommandHandler, parse_command
from core.config import DialogConfig
from core.errors import (
    GenerationError,
    NoReplicaAvailable,
    OverloadedError,
    PromptTooLongError,
    ReplicaUnreachable,
    ReplyDeferred,
    StoreError,
    UnhealthyError,
)
from core.generation.base import TextGenerator
from core.guarded_generation import GuardedGeneration, vetted
from core.guards.base import Guard, GuardContext, VerdictKind
from core.language_policy import LanguagePolicy, PreferenceOrLocale
from core.messages import (
    ConversationRef,
    FinishReason,
    IncomingMessage,
    Reply,
    ReplyEvent,
    ReplyStream,
    Turn,
)
from core.metrics import Metrics
from core.notices import notice
from core.ordering import ConversationLocks
from core.prompt import PromptBuilder, estimate_tokens, has_visible_text
from core.store.base import Store
from core.store.outage import StoreOutage

logger = logging.getLogger(__name__)


def _error_notice(error: GenerationError) -> str:
    """The notice key that tells a user what a generation failure means for them."""
    if isinstance(error, NoReplicaAvailable):
        # Replicas at capacity and replicas out of service read differently to a user.
        return "overloaded" if error.busy else "unavailable"
    if isinstance(error, OverloadedError):
        return "overloaded"
    if isinstance(error, UnhealthyError | ReplicaUnreachable):
        return "unavailable"
    return "model_error"


class DialogManager:
    """Answers messages: commands, language choice, history, prompt, guarded generation, record.

    Adapters call `handle` (through the `ChatHandler` protocol) and never see anything else.
    """

    def __init__(
        self,
        *,
        generator: TextGenerator,
        store: Store,
        config: DialogConfig | None = None,
        language_policy: LanguagePolicy | None = None,
        guards: Sequence[Guard] = (),
        admission: Admission | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.generator = generator
        self.store = store
        self.config = config or DialogConfig()
        self.language_policy: LanguagePolicy = language_policy or PreferenceOrLocale()
        self.guards = tuple(guards)
        self.admission = admission
        self.metrics = metrics or Metrics()
        self._clock = clock
        self._builder = PromptBuilder(generator)
        self._commands = CommandHandler(store, self.language_policy)
        self._locks = ConversationLocks()
        self._store_outage = StoreOutage(
            logger,
            on_failure=lambda action: self.metrics.store_failures.labels(action=action).inc(),
        )

    def handle(self, message: IncomingMessage) -> ReplyStream:
        """The reply to `message` as a stream of cleared snapshots ending in a final Reply."""
        return ReplyStream(self._events(message))

    async def claim_event(
        self, platform: str, event_id: str, *, hold_seconds: int | None = None
    ) -> bool:
        """True the first time a platform event is seen; platform retries get False.

        The claim lasts `hold_seconds` ("in progress"), or the dedup period when None. When the
        store cannot be asked the event is let through (logged): a message answered twice is
        better than one never answered.
        """
        seconds = self.config.dedup_ttl_seconds if hold_seconds is None else hold_seconds
        claim = self.store.claim(f"{platform}:{event_id}", seconds)
        return await self._store_outage.attempt("claim an event", claim, True)

    async def is_claimed(self, platform: str, event_id: str) -> bool:
        """Whether a platform event (or any key an adapter remembers) is claimed now.

        When the store cannot be asked the answer is False (logged): nothing is remembered.
        """
        read = self.store.is_claimed(f"{platform}:{event_id}")
        return await self._store_outage.attempt("read a claim", read, False)

    async def hold_event(
        self, platform: str, event_id: str, *, hold_seconds: int | None = None
    ) -> None:
        """Keep an event's claim `hold_seconds` longer, or for the dedup period when None (done).

        A store failure is logged, not raised: the reply has been delivered either way.
        """
        seconds = self.config.dedup_ttl_seconds if hold_seconds is None else hold_seconds
        hold = self.store.hold_claim(f"{platform}:{event_id}", seconds)
        await self._store_outage.attempt("hold an event claim", hold, None)

    async def record_feedback(
        self, conversation: ConversationRef, reply_id: str, sender_id: str, value: int
    ) -> None:
        """Store a user's rating of a reply (+1 or -1); a store failure is logged, not raised."""
        rating = 1 if value > 0 else -1
        save = self.store.save_feedback(conversation, reply_id, sender_id, rating)
        await self._store_outage.attempt("save feedback", save, None)

    async def _events(self, message: IncomingMessage) -> AsyncIterator[ReplyEvent]:
        # One reply at a time per conversation: each prompt sees the turns before it.
        async with self._locks.hold(message.conversation.key):
            async for event in self._answer(message):
                yield event

    async def _answer(self, message: IncomingMessage) -> AsyncIterator[ReplyEvent]:
        started = self._clock()
        conversation = message.conversation
        self.metrics.messages_received.labels(platform=conversation.platform).inc()
        # Without the store the reply is still written, only without the conversation's past.
        preference, history = await self._store_outage.attempt(
            "read the conversation", self.store.conversation_state(conversation), (None, [])
        )
        language = await self.language_policy.choose(message, history, preference)
        context = GuardContext(
            message=message,
            language=language,
            history=tuple(history),
            generator=self.generator,
            params=self.config.generation,
        )
        reply = await self._answer_without_model(message, language)
        if reply is not None:
            yield self._finish(message, await self._vetted_notice(reply, context))
            return
        for guard in self.guards:
            verdict = await guard.screen(context)
            if verdict is not None and verdict.kind is VerdictKind.REPLACE:
                self.metrics.guard_interventions.labels(
                    guard=guard.name, action="screen", reason=verdict.reason, language=language
                ).inc()
                logger.info(
                    "guard %s refused a message (%s), language %s",
                    guard.name,
                    verdict.reason,
                    language,
                )
                yield self._finish(
                    message, Reply(verdict.replacement, language, FinishReason.REPLACED)
                )
                return
        try:
            prompt = await self._builder.build(history, message.text, self.config.generation)
        except PromptTooLongError as exc:
            too_long = await self._too_long(message.text, message.text, exc, language)
            yield self._finish(message, too_long)
            return
        except GenerationError as exc:
            yield self._finish(message, self._failed(exc, language))
            return
        generation = GuardedGeneration(
            generator=self.generator,
            builder=self._builder,
            guards=self.guards,
            context=context,
            prompt=prompt,
            user_text=message.text,
            params=self.config.generation,
            max_resumes=self.config.max_resumes,
            metrics=self.metrics,
            read_ahead=self.config.read_ahead_tokens,
        )
        shown = False
        async for snapshot in generation.snapshots():
            if not shown:
                self.metrics.first_visible_seconds.observe(self._clock() - started)
                shown = True
            yield snapshot
        if not shown:
            # The guards held the whole reply to its end (a short reply whose tokens came at
            # once): its first text is what is shown now, the finished reply or its error.
            self.metrics.first_visible_seconds.observe(self._clock() - started)
        outcome = generation.outcome
        self.metrics.generated_tokens.inc(generation.tokens_generated)
        if outcome.error is not None:
            yield self._finish(message, self._failed(outcome.error, language))
            return
        notices: list[str] = []
        if outcome.finish_reason is FinishReason.INTERRUPTED:
            notices.append(notice("interrupted", language))
        elif not outcome.text:
            notices.append(notice("empty_reply", language))
        reply_id = uuid.uuid4().hex[:16]
        if outcome.text:
            turn = Turn(
                user_text=message.text,
                reply_text=outcome.text,
                sender_id=message.sender.id,
                language=language,
                reply_id=reply_id,
                at=time.time(),
                tokens=PromptBuilder.turn_tokens(
                    prompt,
                    outcome.text,
                    None
                    if outcome.finish_reason is FinishReason.REPLACED
                    else generation.tokens_generated,
                ),
            )
            if not await self._record(conversation, turn):
                notices.append(notice("history_not_saved", language))
        reply = Reply(outcome.text, language, outcome.finish_reason, tuple(notices), reply_id)
        yield self._finish(message, reply)

    async def _record(self, conversation: ConversationRef, turn: Turn) -> bool:
        """Save a finished turn; False when the store failed (the reply is still shown)."""

        async def append() -> bool:
            await self.store.append_turn(
                conversation,
                turn,
                max_turns=self.config.history_turns,
                ttl_seconds=self.config.history_ttl_seconds,
            )
            return True

        return await self._store_outage.attempt("save a turn", append(), False)

    async def _vetted_notice(self, reply: Reply, context: GuardContext) -> Reply:
        """A reply that repeats the user's words ("unknown command /x") passes the guards first."""
        shown = "\n".join((reply.text, *reply.notices))
        words = {word.lstrip("/").casefold() for word in context.message.text.split()}
        if not any(len(word) > 1 and word in shown.casefold() for word in words):
            return reply
        objection = await vetted(shown, self.guards, context)
        if objection is None:
            return reply
        guard, verdict = objection
        self.metrics.guard_interventions.labels(
            guard=guard.name, action="vet", reason=verdict.reason, language=context.language
        ).inc()
        return Reply(verdict.replacement, context.language, FinishReason.REPLACED)

    async def _answer_without_model(self, message: IncomingMessage, language: str) -> Reply | None:
        """Commands, empty, oversize and refused messages: answered here, the model is not called."""
        text = message.text.strip()
        command = parse_command(text)
        if command is not None:
            try:
                return await self._commands.answer(command, message, language)
            except StoreError as exc:
                self._store_outage.failed(f"/{command.name}", exc)
                return Reply(notice("store_unavailable", language), language, FinishReason.COMMAND)
        if not has_visible_text(text):
            # Empty, or only invisible characters: nothing for the model to answer.
            return Reply("", language, FinishReason.REJECTED, (notice("empty_message", language),))
        if len(text) > self.config.max_message_chars:
            return await self._over_character_limit(text, language)
        return await self._refused(message, language)

    async def _refused(self, message: IncomingMessage, language: str) -> Reply | None:
        """The admission step: a sender not allowed, or over a rate limit, gets a notice."""
        if self.admission is None:
            return None
        refusal = await self.admission.admit(message)
        if refusal is None:
            return None
        self.metrics.admission_refusals.labels(
            platform=message.conversation.platform, reason=refusal.reason
        ).inc()
        text = notice(refusal.reason, language, seconds=refusal.retry_after)
        return Reply("", language, FinishReason.REJECTED, (text,))

    async def _over_character_limit(self, text: str, language: str) -> Reply:
        """A message over the character limit; the cut it needs also covers the token budget.

        Only the part within the limit is tokenized (the limit keeps huge texts off the
        tokenizer); if even that part is over the model's budget, the cut grows accordingly,
        so a user who shortens the message as told is not told again.
        """
        head = text[: self.config.max_message_chars]
        try:
            await self._builder.build((), head, self.config.generation)
        except PromptTooLongError as exc:
            return await self._too_long(text, head, exc, language)
        except GenerationError:
            pass  # the budget is unknown now: the character limit alone decides the cut
        cut = text[len(head) :]
        return self._too_long_notice(len(cut), len(cut) / max(estimate_tokens(cut), 1), language)

    async def _too_long(
        self, text: str, measured: str, exc: PromptTooLongError, language: str
    ) -> Reply:
        """The cut `text` needs, from both limits; `measured` (a prefix of it) overran the budget.

        The template's own tokens do not shrink with the text, so they are left out of the
        characters-per-token ratio the cut is computed with.
        """
        try:
            overhead = await self._builder.request_overhead()
        except GenerationError:
            overhead = 0  # the tokenizer failed just now: count the template with the text
        measured_tokens = max(exc.limit_tokens + exc.excess_tokens - overhead, 1)
        chars_per_token = len(measured) / measured_tokens
        text_budget = exc.limit_tokens - overhead
        over_budget = math.ceil(len(text) / chars_per_token) - text_budget
        over_limit = len(text) - self.config.max_message_chars
        excess_chars = max(over_limit, math.ceil(over_budget * chars_per_token))
        return self._too_long_notice(min(excess_chars, len(text)), chars_per_token, language)

    @staticmethod
    def _too_long_notice(excess_chars: int, chars_per_token: float, language: str) -> Reply:
        excess_tokens = max(1, math.ceil(excess_chars / max(chars_per_token, 1e-9)))
        message = notice(
            "too_long", language, excess_chars=excess_chars, excess_tokens=excess_tokens
        )
        return Reply("", language, FinishReason.REJECTED, (message,))

    def _failed(self, error: GenerationError, language: str) -> Reply:
        if self.config.defer_when_busy and isinstance(error, NoReplicaAvailable) and error.busy:
            raise ReplyDeferred(f"every replica is busy: {error}") from error
        self.metrics.generation_errors.labels(error=type(error).__name__).inc()
        logger.warning("generation failed: %s", error)
        return Reply("", language, FinishReason.ERROR, (notice(_error_notice(error), language),))

    def _finish(self, message: IncomingMessage, reply: Reply) -> Reply:
        self.metrics.replies.labels(
            platform=message.conversation.platform,
            finish_reason=reply.finish_reason.value,
            language=reply.language,
        ).inc()
        return reply
