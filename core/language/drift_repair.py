"""What a reply that drifted becomes: resumed with a firmer instruction, then translated or cut."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from core.errors import GenerationError
from core.generation.base import GenerationParams
from core.guards.base import GuardContext, Verdict
from core.language.detector import Detection
from core.language.judge import SentenceJudge
from core.language.languages import BY_CODE
from core.language.masking import mask
from core.prompt import render_request

logger = logging.getLogger(__name__)

REASON_DRIFT = "language_drift"
REASON_TRANSLATED = "language_drift_translated"


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


class DriftRepair:
    """One reply's answers to drifts: the first resumes the reply at the last good sentence;
    the second holds the rest back and, once generated, has the model translate it (when
    allowed and the target is a BLOOM language), else cuts the reply there."""

    def __init__(
        self,
        context: GuardContext,
        judge: SentenceJudge,
        *,
        translate: bool,
        max_translation_chars: int,
        translation_timeout: float,
    ) -> None:
        self._context = context
        self._judge = judge
        self._target = context.language
        self._translate = translate and self._target in BY_CODE
        self._max_translation_chars = max_translation_chars
        self._translation_timeout = translation_timeout
        self._resumed = False
        self._held_from: int | None = None  # after a second drift: text from here is translated
        self._anchor: str | None = None  # the reply's anchor when it was held back

    @property
    def holding(self) -> bool:
        """Whether the rest of the reply is held back to be translated."""
        return self._held_from is not None

    async def drift(self, text: str, at: int, *, final: bool, anchor: str | None) -> Verdict:
        """The answer to a drift at `at`: a resume the first time, then a translation or a cut."""
        if not self._resumed:
            self._resumed = True
            return Verdict.resume(at, firm_instruction(self._target), REASON_DRIFT)
        if self._translate:
            self._held_from = at
            self._anchor = anchor
            return await self.hold_or_translate(text, final=final)
        return Verdict.cut(at, REASON_DRIFT)

    async def hold_or_translate(self, text: str, *, final: bool) -> Verdict:
        """Hold the rest back until it is generated (or long enough), then translate it."""
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
        judgement = self._judge.decide(check, self._target, self._anchor, mask(translation))
        return None if judgement.foreign else translation
