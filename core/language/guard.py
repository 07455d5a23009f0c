"""The streaming language guard: hold each sentence until checked, repair drift, never show it.

A reply is checked sentence by sentence as it grows, on masked text (code, URLs, numbers,
names and quotes blanked). The user sees only sentences that passed. When a sentence
confidently switches language, the first time the reply resumes at the last good sentence
with a firmer instruction; the second time, the rest of the reply is held back and, once
generated, translated into the target language by the model; if that fails, the reply ends
cleanly at the last good sentence. Translation requests and answers the user asked to be in
several languages are left alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re

from core.errors import GenerationError
from core.generation.base import GenerationParams
from core.guards.base import Guard, GuardContext, GuardSession, Verdict
from core.language.detector import Detection, LanguageDetector
from core.language.judge import Judgement, SentenceJudge
from core.language.languages import BY_CODE
from core.language.masked_reply import MaskedReply
from core.language.masking import mask
from core.language.requests import asks_for_mixed_languages, find_request
from core.prompt import render_request

logger = logging.getLogger(__name__)

REASON_DRIFT = "language_drift"
REASON_TRANSLATED = "language_drift_translated"
# An unfinished sentence is judged once it has this many letters, so a long sentence does not
# hold the display back to its end, and a switch inside it stops generation early.
PARTIAL_LETTERS = 40
# An unfinished sentence must be this long before it alone stops generation as foreign.
PARTIAL_FOREIGN_LETTERS = 80
# Re-judge an unfinished sentence only after it grew by this many characters.
PARTIAL_STEP = 12
# An unfinished sentence is judged on at most its last this many characters: plenty of evidence,
# and a run-on sentence (a long list, a sentence without a full stop) costs the same per token
# however long it grows.
PARTIAL_WINDOW = 400
_VISIBLE = re.compile(r"\S")


def firm_instruction(language: str) -> str:
    """The instruction appended to the user's message when a reply resumes after a drift."""
    entry = BY_CODE.get(language)
    name = f"{entry.english} ({entry.native})" if entry else language
    return (
        f"Important: write the whole answer in {name} only. "
        "Do not switch to any other language, not even for a single sentence."
    )


def translation_request(language: str, text: str) -> str:
    """The message asking the model to translate `text` into `language`."""
    entry = BY_CODE.get(language)
    name = f"{entry.english} ({entry.native})" if entry else language
    return (
        f"Translate the following text into {name}. Write only the translation, "
        f"keep code, links and names unchanged.\n\n{text}"
    )


class LanguageGuard(Guard):
    """Keeps every reply in its target language (see the module docstring)."""

    name = "language"

    def __init__(
        self,
        detector: LanguageDetector,
        *,
        translate: bool = True,
        max_translation_chars: int = 2000,
        translation_timeout: float = 60.0,
    ) -> None:
        self._judge = SentenceJudge(detector)
        self._translate = translate
        self._max_translation_chars = max_translation_chars
        self._translation_timeout = translation_timeout

    def begin(self, context: GuardContext) -> GuardSession:
        request = find_request(context.message.text)
        passive = (request is not None and request.translation) or asks_for_mixed_languages(
            context.message.text
        )
        return LanguageGuardSession(
            context,
            self._judge,
            passive=passive,
            translate=self._translate,
            max_translation_chars=self._max_translation_chars,
            translation_timeout=self._translation_timeout,
        )


class LanguageGuardSession(GuardSession):
    """One reply's state: how far it was checked, whether it resumed, what it holds back."""

    def __init__(
        self,
        context: GuardContext,
        judge: SentenceJudge,
        *,
        passive: bool,
        translate: bool,
        max_translation_chars: int,
        translation_timeout: float,
    ) -> None:
        self._context = context
        self._judge = judge
        self._passive = passive
        self._translate = translate
        self._max_translation_chars = max_translation_chars
        self._translation_timeout = translation_timeout
        self._target = context.language
        self._verified = 0  # text[:verified] passed, sentence by sentence
        self._partial_judged_at = 0
        self._resumed = False
        self._held_from: int | None = None  # after a second drift: text from here is translated
        self._reply = MaskedReply()  # the reply's mask, kept up to date token by token
        self.anchor: str | None = None  # the language the reply settled in when target is "und"

    async def check(self, text: str, *, final: bool) -> Verdict:
        if self._passive:
            return Verdict.allow()
        if self._held_from is not None:
            return await self._hold_or_translate(text, final=final)
        if len(text) < self._verified:
            # The reply restarted shorter than what was checked (a resume): re-check from there.
            self._verified = len(text)
        self._reply.update(text)
        for segment in self._reply.segments(final=final, after=self._verified):
            if segment.end <= self._verified:
                continue
            # A sentence partly shown already is judged whole (more evidence than its tail);
            # a drift found in it cuts at what was shown.
            start = max(segment.start, self._verified)
            if not segment.complete:
                verdict = await self._check_partial(text, segment.start, segment.end)
                if verdict is not None:
                    return verdict
                break
            judgement = await self._judge_span(segment.start, segment.end)
            if judgement.foreign:
                return await self._drift(text, start, final=final)
            self._verified = segment.end
        if final:
            return Verdict.allow()
        return Verdict.allow(cleared=self._visible_end(text))

    async def _check_partial(self, text: str, start: int, end: int) -> Verdict | None:
        if end - self._partial_judged_at < PARTIAL_STEP:
            return None
        window_start = max(start, end - PARTIAL_WINDOW)
        letters = sum(map(str.isalpha, self._reply.masked(window_start, end)))
        if letters < PARTIAL_LETTERS:
            return None
        self._partial_judged_at = end
        judgement = await self._judge_span(window_start, end)
        if judgement.foreign and letters >= PARTIAL_FOREIGN_LETTERS:
            return await self._drift(text, max(start, self._verified), final=False)
        if judgement.agrees:
            # Show the sentence up to its last finished word; the rest is judged with what follows.
            cut = text.rfind(" ", start, end)
            if cut > start:
                self._verified = cut
        return None

    async def _judge_span(self, start: int, end: int) -> Judgement:
        judgement = await self._judge.judge(
            self._reply.masked(start, end), self._target, self.anchor
        )
        if self.anchor is None and self._target not in self._judge.detectable:
            self.anchor = judgement.settles
        return judgement

    def _visible_end(self, text: str) -> int:
        """How far the user may see: checked text, plus blanked code or links that follow it."""
        visible = self._reply.first_visible(self._verified)
        if visible is not None:
            return visible
        following = _VISIBLE.search(text, self._verified)
        if following and text.startswith(("```", "~~~"), following.start()):
            return len(text)  # a code block in progress: code is in no human language
        return self._verified

    async def _drift(self, text: str, at: int, *, final: bool) -> Verdict:
        if not self._resumed:
            self._resumed = True
            self._partial_judged_at = 0
            return Verdict.resume(at, firm_instruction(self._target), REASON_DRIFT)
        if self._translate and self._target in BY_CODE:
            self._held_from = at
            return await self._hold_or_translate(text, final=final)
        return Verdict.cut(at, REASON_DRIFT)

    async def _hold_or_translate(self, text: str, *, final: bool) -> Verdict:
        start = self._held_from
        assert start is not None
        if not final and len(text) - start < self._max_translation_chars:
            return Verdict.allow(cleared=start)
        translated = await self._translated(text[start:].strip())
        if translated is None:
            return Verdict.cut(start, REASON_DRIFT)
        kept = text[:start].rstrip()
        separator = text[len(kept) : start] or (" " if kept else "")
        return Verdict.replace(f"{kept}{separator}{translated}".strip(), REASON_TRANSLATED)

    async def _translated(self, held: str) -> str | None:
        """The model's translation of `held`, or None when it failed or is still off-language."""
        if not held:
            return None
        prompt = render_request(translation_request(self._target, held))
        params: GenerationParams = dataclasses.replace(self._context.params, temperature=0.2)
        pieces: list[str] = []
        try:
            async with asyncio.timeout(self._translation_timeout):
                stream = self._context.generator.stream(prompt, params)
                try:
                    async for token in stream:
                        pieces.append(token.text)
                finally:
                    await stream.aclose()
        except (GenerationError, TimeoutError) as exc:
            logger.warning("translation of a drifted reply failed: %s", type(exc).__name__)
            return None
        translation = "".join(pieces).strip()
        if not translation:
            return None
        check: Detection = await self._judge.detect(mask(translation))
        judgement = self._judge.decide(check, self._target, self.anchor, mask(translation))
        return None if judgement.foreign else translation
