"""Runs one model reply through the guards: streams cleared snapshots, resumes, cuts, replaces.

This is the one path to the user for model text: what a session cleared, what a cut keeps, and
any text a guard puts in the reply's place (a translation, a repair) all pass every guard's
check before they are shown; `vetted` is that check for finished text, used by the dialog too.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from core.errors import GenerationError, PromptTooLongError, StreamInterrupted
from core.generation.base import GenerationParams, TextGenerator
from core.generation.read_ahead import DEFAULT_LIMIT as DEFAULT_READ_AHEAD
from core.generation.read_ahead import ReadAhead
from core.guards.base import Guard, GuardContext, GuardSession, Verdict, VerdictKind
from core.messages import FinishReason
from core.metrics import Metrics
from core.prompt import Prompt, PromptBuilder

logger = logging.getLogger(__name__)


async def vetted(
    text: str, guards: Sequence[Guard], context: GuardContext, *, skip: Guard | None = None
) -> tuple[Guard, Verdict] | None:
    """The first guard's objection to showing finished `text`, with the guard; None: show it.

    `skip` is the guard that wrote the text (its own check already passed).
    """
    for guard in guards:
        if guard is skip:
            continue
        verdict = await guard.vet(text, context)
        if verdict is not None and verdict.kind is not VerdictKind.PASS:
            return guard, verdict
    return None


def _stripped_prefix(text: str, end: int) -> str:
    """`text[:end].strip()` as one slice: no second copy of a long reply while it is made."""
    while end and text[end - 1].isspace():
        end -= 1
    start = 0
    while start < end and text[start].isspace():
        start += 1
    return text[start:end]


@dataclass
class Outcome:
    """How a guarded generation ended; filled in while the snapshots are consumed."""

    text: str = ""
    finish_reason: FinishReason = FinishReason.STOP
    error: GenerationError | None = None


class GuardedGeneration:
    """One reply: generation stream plus guard sessions; iterate it for visible snapshots."""

    def __init__(
        self,
        *,
        generator: TextGenerator,
        builder: PromptBuilder,
        guards: Sequence[Guard],
        context: GuardContext,
        prompt: Prompt,
        user_text: str,
        params: GenerationParams,
        max_resumes: int,
        metrics: Metrics,
        read_ahead: int = DEFAULT_READ_AHEAD,
    ) -> None:
        self._generator = generator
        self._builder = builder
        self._guards = guards
        self._context = context
        self._prompt = prompt
        self._user_text = user_text
        self._params = params
        self._max_resumes = max_resumes
        self._metrics = metrics
        self._read_ahead = read_ahead
        self.outcome = Outcome()
        self.tokens_generated = 0  # model tokens streamed for this reply, resumes included
        self._last_guard: Guard | None = None  # the guard behind the latest verdict
        self._cleared_by: list[int] = []  # how far each guard cleared the reply last time
        self._listening: list[bool] = []  # whether each session hears the others' clearance

    async def snapshots(self) -> AsyncIterator[str]:
        """Growing text every guard has cleared; `outcome` is complete once this ends."""
        sessions = [guard.begin(self._context) for guard in self._guards]
        # Only sessions that use what the others cleared hear it (a call per token each).
        self._listening = [
            type(session).others_cleared is not GuardSession.others_cleared for session in sessions
        ]
        try:
            async for snapshot in self._run(sessions):
                yield snapshot
        finally:
            for session in sessions:
                await session.aclose()

    async def _run(self, sessions: list[GuardSession]) -> AsyncIterator[str]:
        kept = ""
        prompt = self._prompt.text
        params = self._params
        shown = ""
        shown_to = -1  # the cleared length `shown` was taken from
        resumes = 0
        while True:
            text = kept
            verdict: Verdict | None = None
            finish = FinishReason.STOP
            stream = self._generator.stream(prompt, params)
            try:
                # Tokens that arrived while the guards judged the last ones are judged as one
                # step: the guards' work follows the text, not the number of tokens.
                async with ReadAhead(stream, limit=self._read_ahead) as batches:
                    async for batch in batches:
                        self.tokens_generated += len(batch)
                        text += batch[0].text if len(batch) == 1 else "".join(t.text for t in batch)
                        if batch[-1].finish_reason == "length":
                            finish = FinishReason.LENGTH
                        verdict, cleared = await self._check(sessions, text, final=False)
                        if verdict is not None:
                            break
                        if cleared == shown_to:
                            continue  # nothing new cleared: no need to look at the text
                        shown_to = cleared
                        visible = _stripped_prefix(text, cleared)
                        if visible and visible != shown:
                            shown = visible
                            yield visible
            except StreamInterrupted as exc:
                logger.warning("reply stream interrupted: %s", exc)
                finish = FinishReason.INTERRUPTED
            except GenerationError as exc:
                if not text.strip():
                    self.outcome = Outcome(text, FinishReason.ERROR, exc)
                    return
                # A restarted stream failed after earlier text was shown: keep what was cleared.
                logger.warning("resumed reply stream failed: %s", exc)
                finish = FinishReason.INTERRUPTED
            if verdict is None:
                verdict, _ = await self._check(sessions, text, final=True)
            if verdict is None:
                self.outcome = Outcome(text.strip(), finish)
                return
            if verdict.kind is VerdictKind.RESUME and resumes < self._max_resumes:
                resumed = await self._resumed_prompt(verdict, text)
                if resumed is not None:
                    resumes += 1
                    kept = text[: verdict.at].rstrip()
                    shown_to = -1
                    prompt = resumed
                    continue
            if verdict.kind is not VerdictKind.REPLACE:
                # The text a cut keeps must still pass every guard's final check (safety).
                kept_verdict, _ = await self._check(sessions, text[: verdict.at], final=True)
                if kept_verdict is not None and kept_verdict.kind is VerdictKind.REPLACE:
                    verdict = kept_verdict
            else:
                verdict = await self._vetted_replacement(verdict)
            self.outcome = self._apply(verdict, text)
            return

    async def _vetted_replacement(self, verdict: Verdict) -> Verdict:
        """A replacement (a translation, a refusal) once every other guard let it be shown."""
        objection = await vetted(
            verdict.replacement, self._guards, self._context, skip=self._last_guard
        )
        if objection is None:
            return verdict
        guard, replaced = objection
        if replaced.kind is not VerdictKind.REPLACE:
            # A cut of a replacement cannot be shown in part: nothing of it is shown.
            replaced = Verdict.replace("", replaced.reason)
        self._record(guard, replaced)
        return replaced

    async def _resumed_prompt(self, verdict: Verdict, text: str) -> str | None:
        """The prompt that continues the kept text, or None when it no longer fits the budget."""
        try:
            resumed = await self._builder.build(
                self._prompt.kept_turns,
                self._user_text,
                self._params,
                instruction=verdict.instruction,
                reply_prefix=text[: verdict.at].strip(),
            )
        except PromptTooLongError:
            # No room left to continue: the reply ends cleanly where it was cut.
            return None
        return resumed.text

    def _apply(self, verdict: Verdict, text: str) -> Outcome:
        if verdict.kind is VerdictKind.REPLACE:
            return Outcome(verdict.replacement, FinishReason.REPLACED)
        # CUT, or a RESUME beyond the allowed number of restarts: end cleanly at the point given.
        return Outcome(text[: verdict.at].strip(), FinishReason.CUT)

    async def _check(
        self, sessions: list[GuardSession], text: str, *, final: bool
    ) -> tuple[Verdict | None, int]:
        length = cleared = len(text)
        # What each guard cleared: this round's for those already asked, the last round's for
        # the others. Each guard hears the least of the others' before it judges, so it can
        # skip work on text they hold back anyway.
        each = self._cleared_by
        if len(each) != len(sessions):
            each = self._cleared_by = [length] * len(sessions)
        listening = self._listening if len(each) > 1 and not final else None
        for index, session in enumerate(sessions):
            if listening and listening[index]:
                session.others_cleared(min(each[:index] + each[index + 1 :]))
            verdict = await session.check(text, final=final)
            if verdict.kind is VerdictKind.PASS:
                end = length if verdict.cleared is None else verdict.cleared
                each[index] = end
                if end < cleared:
                    cleared = end
                continue
            guard = self._guards[index]
            self._record(guard, verdict)
            self._last_guard = guard
            return verdict, cleared
        return None, cleared

    def _record(self, guard: Guard, verdict: Verdict) -> None:
        language = self._context.language
        self._metrics.guard_interventions.labels(
            guard=guard.name, action=verdict.kind.value, reason=verdict.reason, language=language
        ).inc()
        # The reason and language only: reply text stays out of the logs.
        logger.info(
            "guard %s: %s (%s) in reply language %s",
            guard.name,
            verdict.kind.value,
            verdict.reason,
            language,
        )
