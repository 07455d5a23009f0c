"""Decide whether one masked sentence of a reply is in the target language, foreign or unclear."""

from __future__ import annotations

from dataclasses import dataclass

from core.language.detector import Detection, LanguageDetector
from core.language.languages import BY_CODE, UNDETERMINED, is_close
from core.language.quick_agreement import QuickAgreement

# Fewer letters than this: too little to call a sentence foreign ("OK.", "Done!").
MIN_LETTERS = 8
# A sentence is foreign only when the detector is this sure and gives the target next to nothing.
# Read off `bench/language_judge_tune.py` on the tuning data: at 0.75 / 0.10, 99.1 % of foreign
# sentences are caught and 0.03 % of sentences (or their first halves) wrongly cut; the
# target's share changes nothing on whole sentences, while 0.10 lets a window half in each
# language (a run-on sentence) count as foreign once the target is the minority.
FOREIGN_CONFIDENCE = 0.75
TARGET_AT_MOST = 0.1
# A reply with no target ("und") takes the language of its first sentence this sure and long.
SETTLE_CONFIDENCE = 0.9
SETTLE_LETTERS = 20
# For a target no detector knows (Wolof, Twi, Fon...), only a switch into one of the languages
# BLOOMChat drifts into, detected this surely, counts; a neighbour guess never does.
DRIFT_LANGUAGES = frozenset({"en", "fr", "es", "pt", "ca", "id", "vi"})
UNKNOWN_TARGET_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Judgement:
    """`foreign`: the sentence is confidently in another language or script; `agrees`: it is
    confidently in the target language; neither: unclear (short, mixed, code...). `settles` is
    a language the sentence would anchor a reply without target to."""

    foreign: bool = False
    agrees: bool = False
    settles: str | None = None
    detection: Detection | None = None


NEUTRAL = Judgement()


class SentenceJudge:
    """Applies the detector to one sentence at a time, with the thresholds above."""

    def __init__(self, detector: LanguageDetector) -> None:
        self._detector = detector
        self.detectable = detector.languages
        self._quick = QuickAgreement.of(detector)

    async def detect(self, masked: str) -> Detection:
        """The detector's view of a masked span."""
        return await self._detector.adetect(" ".join(masked.split()))

    async def judge(
        self, masked: str, target: str, anchor: str | None, *, finished: bool = False
    ) -> Judgement:
        """Judge a masked sentence against the reply's target (or its anchor when "und").

        `finished`: the sentence is complete and only whether it is foreign matters; a
        sentence that is not is then judged neither foreign nor agreeing when telling which
        would take the detector's costliest stage (`quick_agreement`).
        """
        letters = sum(map(str.isalpha, masked))
        if letters < MIN_LETTERS:
            return NEUTRAL
        if self._quick is not None and target in self.detectable:
            # Most sentences are in the target language: a plain yes costs a fraction of a
            # full detection, and the answer is the one the full detector would give.
            quick = self._quick.answer(" ".join(masked.split()), target, finished=finished)
            if quick.agrees is not None:
                return Judgement(agrees=True, detection=quick.agrees)
            if quick.not_foreign:
                return NEUTRAL
        return self.decide(await self.detect(masked), target, anchor, masked)

    def decide(self, found: Detection, target: str, anchor: str | None, masked: str) -> Judgement:
        """The judgement on a detection already made."""
        letters = sum(map(str.isalpha, masked))
        if letters < MIN_LETTERS:
            return NEUTRAL
        effective = target if target in self.detectable else anchor
        script = _script_of(target) or _script_of(anchor)
        # A change of script is a change of language whatever the detector thinks of it, except
        # Latin text it cannot name (transliteration, a list of product names).
        switched = bool(script and found.script and found.script != script)
        if switched and (found.script != "Latin" or found.sure):
            return Judgement(foreign=True, detection=found)
        if effective is None:
            return self._without_known_target(found, target, letters)
        if found.sure and is_close(found.language, effective):
            return Judgement(agrees=True, detection=found)
        if (
            found.sure
            and found.confidence >= FOREIGN_CONFIDENCE
            and found.score(effective) <= TARGET_AT_MOST
        ):
            return Judgement(foreign=True, detection=found)
        return Judgement(detection=found)

    def _without_known_target(self, found: Detection, target: str, letters: int) -> Judgement:
        if target == UNDETERMINED:
            settles = (
                found.language
                if found.sure
                and found.confidence >= SETTLE_CONFIDENCE
                and letters >= SETTLE_LETTERS
                else None
            )
            return Judgement(settles=settles, detection=found)
        foreign = (
            found.sure
            and found.language in DRIFT_LANGUAGES
            and found.confidence >= UNKNOWN_TARGET_CONFIDENCE
            and not is_close(found.language, target)
        )
        return Judgement(foreign=foreign, detection=found)


def _script_of(code: str | None) -> str | None:
    entry = BY_CODE.get(code) if code else None
    return entry.script if entry else None
