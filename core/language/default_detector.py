"""The default detector: the script decides where it can, statistical models only where needed."""

from __future__ import annotations

from collections.abc import Sequence

from core.language.detector import UNSURE, Detection, LanguageDetector
from core.language.languages import UNDETERMINED, is_close
from core.language.library_detectors import LinguaDetector, Py3langidDetector
from core.language.scripts import (
    SINGLE_LANGUAGE_SCRIPTS,
    bengali_variant,
    han_variant,
    has_urdu_letters,
    script_counts,
)

# Fewer letters than this (after masking) say nothing reliable about a language.
MIN_LETTERS = 4
# Han characters carry more information each: two are enough to name Chinese.
MIN_HAN = 2

# Languages outside BLOOM that py3langid knows and that sit next to BLOOM languages no detector
# knows: Akan, Twi, Fon, Bambara, Wolof text lands on these instead of on Swahili or Yoruba.
LATIN_ABSORBERS: tuple[str, ...] = (
    "ha",
    "so",
    "om",
    "mg",
    "guw",
    "fuv",
    "pcm",
    "tl",
    "ht",
    "gcf",
    "kab",
)
# Scripts shared by several BLOOM languages, with the py3langid labels competing inside each.
_SCRIPT_CANDIDATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Arabic": (("ar", "ur"), ("fa", "ps", "ug", "arz", "ary")),
    "Devanagari": (("hi", "mr", "ne"), ("sa", "gom")),
    "Bengali": (("bn", "as"), ()),
}


class DefaultDetector(LanguageDetector):
    """Script first, then py3langid inside the script; Latin text must convince two models.

    Seven BLOOM languages have a script of their own (Gujarati, Punjabi, Odia, Tamil, Telugu,
    Kannada, Malayalam): the letters answer at once. Chinese is split into simplified and
    traditional by the characters only one form uses. Arabic, Devanagari and Bengali scripts go
    to py3langid restricted to the languages written in them. Latin script goes to py3langid
    with "absorber" languages that catch the BLOOM languages no detector knows; a second model
    (`confirm`, lingua's fast mode by default) must agree on short texts in the languages it
    knows unless py3langid is `sure_alone`, and alone names Tswana and Tsonga, which py3langid
    does not know. Confidence is
    summed over close neighbours (Zulu and Xhosa...) and must reach `min_confidence`.
    """

    name = "default"

    def __init__(
        self,
        *,
        latin: LanguageDetector | None = None,
        confirm: LanguageDetector | None = None,
        confirm_with_lingua: bool = True,
        min_confidence: float = 0.7,
        confirm_below_letters: int = 60,
        only_confirm_confidence: float = 0.9,
        sure_alone: float = 0.95,
    ) -> None:
        self._latin = latin or Py3langidDetector(min_confidence=0.0, absorbers=LATIN_ABSORBERS)
        if confirm is None and confirm_with_lingua:
            confirm = LinguaDetector(min_confidence=0.0, low_accuracy=True)
        self._confirm = confirm
        self._min_confidence = min_confidence
        self._confirm_below_letters = confirm_below_letters
        self._only_confirm_confidence = only_confirm_confidence
        self._sure_alone = sure_alone
        self._by_script = {
            script: Py3langidDetector(min_confidence=0.0, only=bloom, absorbers=others)
            for script, (bloom, others) in _SCRIPT_CANDIDATES.items()
        }

    def load(self) -> None:
        """Load every model now (a few seconds) rather than on the first message."""
        self._latin.detect("warm up")
        if isinstance(self._confirm, LinguaDetector):
            self._confirm.load()

    @property
    def languages(self) -> frozenset[str]:
        found = set(SINGLE_LANGUAGE_SCRIPTS.values()) | {"zh", "zh-hant", "ar", "ur"}
        found |= {"hi", "mr", "ne", "bn", "as"} | self._latin.languages
        if self._confirm is not None:
            found |= self._confirm.languages
        return frozenset(found)

    def detect(self, text: str) -> Detection:
        counts = script_counts(text)
        total = sum(counts.values())
        if not total:
            return UNSURE
        script, count = counts.most_common(1)[0]
        share = count / total
        if script == "Han":
            if counts.get("Kana", 0) or count < MIN_HAN:
                return Detection(UNDETERMINED, 0.0, script=script)
            return Detection(han_variant(text), share, script=script)
        if total < MIN_LETTERS:
            return Detection(UNDETERMINED, 0.0, script=script)
        single = SINGLE_LANGUAGE_SCRIPTS.get(script)
        if single is not None:
            return Detection(single, share, {single: share}, script=script)
        if script == "Bengali":
            variant = bengali_variant(text)
            if variant is not None:
                return Detection(variant, share, {variant: share}, script=script)
        if script == "Arabic" and has_urdu_letters(text):
            return Detection("ur", share, {"ur": share}, script=script)
        if script in self._by_script:
            return self._within_script(self._by_script[script], text, script)
        if script == "Latin":
            return self._latin_script(text, total)
        # Cyrillic, Greek, Hangul, Kana, Thai...: no BLOOM language is written in them.
        return Detection(UNDETERMINED, share, script=script)

    def _within_script(self, detector: LanguageDetector, text: str, script: str) -> Detection:
        found = detector.detect(text)
        if not found.sure:
            # An absorber (a language outside BLOOM) outranked every BLOOM language.
            return Detection(UNDETERMINED, found.confidence, found.scores, script=script)
        # Neighbours share the evidence: Zulu-or-Xhosa at 0.5 each is a confident Nguni text.
        confidence = sum(
            value for code, value in found.scores.items() if is_close(code, found.language)
        )
        if confidence < self._min_confidence:
            return Detection(UNDETERMINED, confidence, found.scores, script=script)
        return Detection(found.language, confidence, found.scores, script=script)

    def _latin_script(self, text: str, letters: int) -> Detection:
        first = self._within_script(self._latin, text, "Latin")
        if self._confirm is None:
            return first
        near = _NEIGHBOURS_OF_CONFIRM_ONLY | {UNDETERMINED}
        if letters >= self._confirm_below_letters and first.language not in near:
            return first
        first_choice = next(iter(first.scores), UNDETERMINED)
        if first.confidence >= self._sure_alone and first_choice not in _NEIGHBOURS_OF_CONFIRM_ONLY:
            # Whatever the second model says, `first` stands (see the checks below): skip it.
            return first
        second = self._confirm.detect(text)
        confirmed = next(iter(second.scores), UNDETERMINED)
        if (
            first_choice in _NEAR_CONFIRM_ONLY.get(confirmed, ())
            and second.confidence >= self._only_confirm_confidence
        ):
            # Tswana and Tsonga: only lingua knows them, so its answer stands alone.
            return Detection(confirmed, second.confidence, second.scores, script="Latin")
        if letters >= self._confirm_below_letters or confirmed == first.language:
            return first
        if first.confidence >= self._sure_alone:
            return first
        if first.sure and first.language not in self._confirm.languages:
            # The second model cannot vouch for a language it does not know.
            return first
        return Detection(UNDETERMINED, first.confidence, first.scores, script="Latin")


# What py3langid prefers for Tswana and Tsonga text, which it does not know: only next to
# these is lingua's word for those two taken, and only then is lingua asked about long texts.
_NEAR_CONFIRM_ONLY: dict[str, frozenset[str]] = {
    "tn": frozenset({"st", "nso"}),
    "ts": frozenset({"xh", "zu", "sn", "ln", "sw"}),
}
_NEIGHBOURS_OF_CONFIRM_ONLY = frozenset().union(*_NEAR_CONFIRM_ONLY.values())


def detectors_for_evaluation() -> Sequence[LanguageDetector]:
    """The detectors `bench/language_eval.py` compares, the default last."""
    from core.language.library_detectors import LangdetectDetector

    return (
        LangdetectDetector(),
        Py3langidDetector(),
        LinguaDetector(),
        LinguaDetector(low_accuracy=True),
        DefaultDetector(),
    )
