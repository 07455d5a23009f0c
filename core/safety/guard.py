"""The streaming safety guard: a reply is shown only as far as every classifier has cleared it.

The word lists clear the reply word by word as it streams: a word is shown once it is
finished and cannot become part of a listed phrase. The other classifiers judge checkpoints
(a sentence end, or every `chunk_chars` characters at a word boundary): in-process ones inline,
remote ones (the guard model) in background tasks, several at once, so generation never waits
for them and the user waits at most one guard-model call past a checkpoint. A blocked reply is
replaced by the refusal notice in the reply language; generation then stops, because the
dialog manager closes the model stream.
"""

from __future__ import annotations

import asyncio
import contextlib

from core.guards.base import Guard, GuardContext, GuardSession, Verdict
from core.notices import notice
from core.safety.base import Role, SafetyClassifier, TextWatcher
from core.safety.chunks import CheckpointFinder
from core.safety.policy import Assessment, SafetyPolicy


def _replacement(assessment: Assessment, language: str) -> Verdict:
    key = "safety_unavailable" if assessment.held else "refusal"
    return Verdict.replace(notice(key, language), reason=assessment.reason)


class SafetyGuard(Guard):
    """Screens user messages and watches replies with a `SafetyPolicy`.

    `chunk_chars` is how much text may accumulate without a sentence end before it is checked;
    `max_checks_in_flight` bounds the guard-model calls one reply may have running at once.
    """

    name = "safety"

    def __init__(
        self, policy: SafetyPolicy, *, chunk_chars: int = 200, max_checks_in_flight: int = 4
    ) -> None:
        self.policy = policy
        self.chunk_chars = chunk_chars
        self.max_checks_in_flight = max_checks_in_flight

    async def screen(self, context: GuardContext) -> Verdict | None:
        if not self.policy.config.screen_user_messages:
            return None
        assessment = await self.policy.assess(
            context.message.text, language=context.language, role=Role.USER
        )
        return _replacement(assessment, context.language) if assessment.blocked else None

    async def vet(self, text: str, context: GuardContext) -> Verdict | None:
        # Judged as a reply to the user's message, by every classifier: it is shown whole.
        if not text.strip():
            return None
        assessment = await self.policy.assess(
            text, language=context.language, role=Role.ASSISTANT, prompt=context.message.text
        )
        return _replacement(assessment, context.language) if assessment.blocked else None

    def begin(self, context: GuardContext) -> GuardSession:
        return SafetySession(self, context)


class SafetySession(GuardSession):
    """One reply: watched classifiers clear it word by word, the others checkpoint by checkpoint.

    In-process classifiers that can watch a growing text (the word lists) read only what was
    added since the last call and clear each finished word that cannot become part of a listed
    phrase. The others judge checkpoints, submitted in order; the reply is cleared up to the
    last checkpoint they all judged safe.
    """

    def __init__(self, guard: SafetyGuard, context: GuardContext) -> None:
        self._guard = guard
        self._policy = guard.policy
        self._context = context
        self._checkpoints = CheckpointFinder(guard.chunk_chars)
        self._watchers: list[TextWatcher] = []
        self._checkpointed: list[SafetyClassifier] = []
        for classifier in self._policy.classifiers:
            watcher = classifier.watch(context.language)
            if watcher is None:
                self._checkpointed.append(classifier)
            else:
                self._watchers.append(watcher)
        self._submitted = 0  # end of the last checkpoint sent for judging
        self._cleared = 0  # every checkpoint up to here was judged safe by every classifier
        self._pending: list[tuple[int, asyncio.Task[Assessment]]] = []
        self._verdict: Verdict | None = None
        self._basis = ""  # the reply text as it was when last submitted

    async def check(self, text: str, *, final: bool) -> Verdict:
        if self._verdict is None and self._pending:
            self._follow_rewrite(text)
            self._harvest()
        cleared = len(text)
        if self._verdict is None:
            if final:
                await self._check_final(text)
            else:
                cleared = self._release(text)
                if self._checkpointed:
                    self._follow_rewrite(text)
                    end = self._checkpoints.next(text, self._submitted)
                    if end is not None and len(self._pending) < self._guard.max_checks_in_flight:
                        self._submit(text[:end])
                    self._harvest()
                    cleared = min(cleared, self._cleared)
        if self._verdict is not None:
            return self._verdict
        return Verdict.allow(None if final else cleared)

    def _release(self, text: str) -> int:
        """How far the watched classifiers clear `text`; a finding blocks the reply."""
        shown = len(text)
        found = []
        for watcher in self._watchers:
            verdict, end = watcher.release(text)
            shown = min(shown, end)
            if verdict.flagged:
                found.append(verdict)
        if found:
            self._block_if(self._policy.decide(found), text)
        return shown

    def _block_if(self, decided: Assessment, text: str) -> None:
        if decided.blocked:
            language = self._context.language
            self._policy.log_block(decided, text, language, Role.ASSISTANT)
            self._verdict = _replacement(decided, language)

    async def _check_final(self, text: str) -> None:
        self._block_if(self._policy.decide([w.verdict(text) for w in self._watchers]), text)
        if self._verdict is not None or not self._checkpointed:
            return
        self._follow_rewrite(text)
        self._harvest()
        if self._submitted < len(text) or not text:
            self._submit(text)
        if self._pending:
            await asyncio.wait([task for _, task in self._pending])
        self._harvest()

    def _follow_rewrite(self, text: str) -> None:
        """After another guard cut or resumed the reply, forget judgements of text now gone."""
        if text.startswith(self._basis):
            return
        common = 0
        for old, new in zip(self._basis, text, strict=False):
            if old != new:
                break
            common += 1
        self._basis = text[:common]
        self._submitted = min(self._submitted, common)
        self._cleared = min(self._cleared, common)
        # Checks of the old text beyond the common part judge text the user will never see.
        for end, task in self._pending:
            if end > common:
                task.cancel()
        self._pending = [(end, task) for end, task in self._pending if end <= common]

    def _submit(self, chunk: str) -> None:
        """Judge the reply up to `chunk`'s end with the checkpointed classifiers.

        The in-process ones judge now; the remote ones (the guard model) in a task, so several
        checkpoints are judged at once while the model keeps writing.
        """
        self._submitted = len(chunk)
        self._basis = chunk
        inline = []
        deferred = []
        for classifier in self._checkpointed:
            verdict = classifier.verdict_now(chunk, self._context.language)
            if verdict is None:
                deferred.append(classifier)
            else:
                inline.append(verdict)
        self._block_if(self._policy.decide(inline), chunk)
        if self._verdict is not None:
            return
        if not deferred:
            self._cleared = len(chunk)
            return
        task = asyncio.create_task(
            self._policy.assess(
                chunk,
                language=self._context.language,
                role=Role.ASSISTANT,
                prompt=self._context.message.text,
                classifiers=deferred,
            )
        )
        self._pending.append((len(chunk), task))

    def _harvest(self) -> None:
        """Take finished checks in submission order; stop at the first still running."""
        while self._pending and self._pending[0][1].done():
            end, task = self._pending.pop(0)
            assessment = task.result()
            if assessment.blocked:
                self._verdict = _replacement(assessment, self._context.language)
                return
            self._cleared = max(self._cleared, end)

    async def aclose(self) -> None:
        for _, task in self._pending:
            task.cancel()
        for _, task in self._pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._pending.clear()
