"""`LanguageDetector`s over langdetect, py3langid and lingua, each restricted to BLOOM languages."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from core.language.detector import UNSURE, Detection, LanguageDetector
from core.language.languages import BLOOM_LANGUAGES, UNDETERMINED
from core.language.scripts import han_variant

# pycld2 label → BLOOM code, for the 42 BLOOM languages CLD2 knows.
CLD2_CODES: dict[str, str] = {
    language.cld2: language.code for language in BLOOM_LANGUAGES if language.cld2 is not None
}
OTHER_LANGUAGE = "other"

if TYPE_CHECKING:
    import lingua as lingua_types
    from py3langid.langid import LanguageIdentifier


def _bloom_codes(library: str) -> dict[str, str]:
    """Library label → BLOOM code, for the BLOOM languages the library knows."""
    table: dict[str, str] = {}
    for language in BLOOM_LANGUAGES:
        label = getattr(language, library)
        if label is not None and language.code != "zh-hant":
            table[label] = language.code
    return table


def _detection(scores: dict[str, float], text: str, min_confidence: float) -> Detection:
    """Turn BLOOM-code probabilities into a Detection, splitting Chinese by its characters."""
    if not scores:
        return UNSURE
    if "zh" in scores:
        variant = han_variant(text)
        if variant != "zh":
            scores[variant] = scores.pop("zh")
    ordered = dict(sorted(scores.items(), key=lambda item: item[1], reverse=True))
    best, confidence = next(iter(ordered.items()))
    language = best if confidence >= min_confidence else UNDETERMINED
    return Detection(language, confidence, ordered)


@dataclass(frozen=True)
class Cld2Guess:
    """CLD2's answer: up to three languages (BLOOM codes, or "other") with their share of the
    text (0-1), and whether CLD2 calls its answer reliable."""

    languages: tuple[str, ...] = ()
    shares: tuple[float, ...] = ()
    reliable: bool = False


NO_GUESS = Cld2Guess()


def cld2_guess(text: str) -> Cld2Guess:
    """CLD2's view of `text` (pycld2, best effort even on short texts)."""
    import pycld2

    try:
        reliable, _, found = pycld2.detect(text, bestEffort=True)
    except (pycld2.error, UnicodeError):
        # Text CLD2 cannot read (unpaired surrogates, invalid UTF-8) carries no guess.
        return NO_GUESS
    shares: dict[str, float] = {}
    for _, label, percent, _ in found:
        if label == "un" or percent <= 0:
            continue
        code = CLD2_CODES.get(label, OTHER_LANGUAGE)
        shares[code] = shares.get(code, 0.0) + percent / 100
    return Cld2Guess(tuple(shares), tuple(shares.values()), bool(reliable))


class Cld2Detector(LanguageDetector):
    """CLD2 (pycld2: the model ships in the wheel), restricted to BLOOM languages."""

    name = "cld2"

    def __init__(self, *, min_confidence: float = 0.5) -> None:
        self._min_confidence = min_confidence

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(CLD2_CODES.values())

    def detect(self, text: str) -> Detection:
        guess = cld2_guess(text)
        scores = {
            code: share
            for code, share in zip(guess.languages, guess.shares, strict=True)
            if code != OTHER_LANGUAGE
        }
        if not guess.languages or guess.languages[0] == OTHER_LANGUAGE:
            ordered = dict(sorted(scores.items(), key=lambda item: item[1], reverse=True))
            return Detection(UNDETERMINED, guess.shares[0] if guess.shares else 0.0, ordered)
        return _detection(scores, text, self._min_confidence)


class _Lazy:
    """Loads a library model once, on first use, safely from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def _once(self, attribute: str, load: object) -> object:
        value = getattr(self, attribute, None)
        if value is None:
            with self._lock:
                value = getattr(self, attribute, None)
                if value is None:
                    assert callable(load)
                    value = load()
                    setattr(self, attribute, value)
        return value


class LangdetectDetector(LanguageDetector):
    """langdetect (a port of Google's language-detection), seeded so answers are repeatable."""

    name = "langdetect"

    def __init__(self, *, min_confidence: float = 0.9) -> None:
        self._labels = _bloom_codes("langdetect")
        self._labels["zh-tw"] = "zh-hant"
        self._min_confidence = min_confidence
        self._lazy = _Lazy()

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._labels.values())

    def _load(self) -> object:
        from langdetect.detector_factory import DetectorFactory

        factory = DetectorFactory()
        folder = resources.files("langdetect").joinpath("profiles")
        profiles = [folder.joinpath(label).read_text(encoding="utf-8") for label in self._labels]
        factory.load_json_profile(profiles)
        # Unseeded, langdetect samples differently on every call and can flip its answer.
        factory.set_seed(0)
        return factory

    def detect(self, text: str) -> Detection:
        from langdetect.lang_detect_exception import LangDetectException

        factory = self._lazy._once("factory", self._load)
        detector = factory.create()  # type: ignore[attr-defined]
        detector.append(text)
        try:
            found = detector.get_probabilities()
        except LangDetectException:
            return UNSURE
        scores = {self._labels[item.lang]: float(item.prob) for item in found}
        if "zh-hant" in scores or "zh" in scores:
            # langdetect tells the two scripts apart itself; keep its split.
            ordered = dict(sorted(scores.items(), key=lambda item: item[1], reverse=True))
            best, confidence = next(iter(ordered.items()))
            language = best if confidence >= self._min_confidence else UNDETERMINED
            return Detection(language, confidence, ordered)
        return _detection(scores, text, self._min_confidence)


_PY3LANGID_LOCK = threading.Lock()
_PY3LANGID: list[LanguageIdentifier] = []


def _py3langid_model() -> LanguageIdentifier:
    """py3langid's full model with normalized probabilities, loaded once per process."""
    with _PY3LANGID_LOCK:
        if not _PY3LANGID:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _PY3LANGID.append(LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True))
        return _PY3LANGID[0]


_PY3LANGID_BLOOM: dict[str, str] = {}


def py3langid_distribution(text: str) -> dict[str, float]:
    """py3langid's probabilities over BLOOM codes, with every other label summed as "other"."""
    if not _PY3LANGID_BLOOM:
        _PY3LANGID_BLOOM.update(_bloom_codes("py3langid"))
    found: dict[str, float] = {}
    for label, value in _py3langid_model().rank(text):
        code = _PY3LANGID_BLOOM.get(str(label), OTHER_LANGUAGE)
        found[code] = found.get(code, 0.0) + float(value)
    return found


class Py3langidDetector(LanguageDetector):
    """py3langid (langid.py's naive Bayes model), restricted to BLOOM languages.

    `only` narrows the BLOOM languages further (e.g. those written in one script).
    `absorbers` are labels of languages outside BLOOM kept in the running so that text in a
    BLOOM language no detector knows (Wolof, Twi, Fon...) lands on them and reads "not sure"
    instead of being forced onto a BLOOM neighbour. Restricting is exact: the model's
    probabilities are renormalized over the labels kept.
    """

    name = "py3langid"

    def __init__(
        self,
        *,
        min_confidence: float = 0.5,
        only: tuple[str, ...] | None = None,
        absorbers: tuple[str, ...] = (),
    ) -> None:
        labels = _bloom_codes("py3langid")
        if only is not None:
            labels = {label: code for label, code in labels.items() if code in only}
        self._labels = labels
        self._kept = frozenset(labels) | frozenset(absorbers)
        self._min_confidence = min_confidence

    @property
    def languages(self) -> frozenset[str]:
        codes = frozenset(self._labels.values())
        return codes | {"zh-hant"} if "zh" in codes else codes

    def scores(self, text: str) -> dict[str, float]:
        """Probability per kept library label (BLOOM and absorber labels alike)."""
        ranked = _py3langid_model().rank(text)
        kept = {str(label): float(value) for label, value in ranked if label in self._kept}
        total = sum(kept.values())
        if total <= 0.0:
            return {}
        return {label: value / total for label, value in kept.items()}

    def detect(self, text: str) -> Detection:
        raw = self.scores(text)
        if not raw:
            return UNSURE
        best = max(raw, key=lambda label: raw[label])
        scores = {
            self._labels[label]: value for label, value in raw.items() if label in self._labels
        }
        if best not in self._labels:
            # An absorber won: the text is not in a BLOOM language this model knows.
            ordered = dict(sorted(scores.items(), key=lambda item: item[1], reverse=True))
            return Detection(UNDETERMINED, raw[best], ordered)
        return _detection(scores, text, self._min_confidence)


class LinguaDetector(LanguageDetector):
    """lingua-language-detector, restricted to the BLOOM languages it knows.

    `low_accuracy` uses trigrams only: about four times faster, weaker on short texts.
    """

    name = "lingua"

    def __init__(self, *, min_confidence: float = 0.5, low_accuracy: bool = False) -> None:
        self._labels = _bloom_codes("lingua")
        self._min_confidence = min_confidence
        self._low_accuracy = low_accuracy
        self._lazy = _Lazy()
        if low_accuracy:
            self.name = "lingua-fast"

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._labels.values()) | {"zh-hant"}

    def _load(self) -> lingua_types.LanguageDetector:
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        codes = [getattr(IsoCode639_1, label) for label in self._labels]
        builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
        if self._low_accuracy:
            builder = builder.with_low_accuracy_mode()
        return builder.with_preloaded_language_models().build()

    def load(self) -> None:
        """Load the language models now (a few seconds) instead of on the first call."""
        self._lazy._once("detector", self._load)

    def detect(self, text: str) -> Detection:
        detector = self._lazy._once("detector", self._load)
        values = detector.compute_language_confidence_values(text)  # type: ignore[attr-defined]
        scores = {
            self._labels[value.language.iso_code_639_1.name]: float(value.value)
            for value in values
            if value.value > 0.0
        }
        return _detection(scores, text, self._min_confidence)


_SHARED_LINGUA: list[LinguaDetector] = []
_SHARED_LINGUA_LOCK = threading.Lock()


def shared_lingua() -> LinguaDetector:
    """One lingua detector (high accuracy, every BLOOM language it knows) per process."""
    with _SHARED_LINGUA_LOCK:
        if not _SHARED_LINGUA:
            _SHARED_LINGUA.append(LinguaDetector(min_confidence=0.0))
        return _SHARED_LINGUA[0]


def lingua_distribution(text: str) -> dict[str, float]:
    """lingua's probabilities over the BLOOM languages it knows."""
    return dict(shared_lingua().detect(text).scores)


# The BLOOM codes (and "other": a language outside BLOOM) each library can name.
LIBRARY_LANGUAGES: dict[str, frozenset[str]] = {
    "cld2": frozenset(CLD2_CODES.values()) | {OTHER_LANGUAGE},
    "py3langid": frozenset(_bloom_codes("py3langid").values()) | {OTHER_LANGUAGE},
    "lingua": frozenset(_bloom_codes("lingua").values()),
}
