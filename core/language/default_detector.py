"""The default detector: the script answers where it can, a calibrated combination elsewhere."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from core.language.char_ngrams import NEIGHBOURS_FILE, OTHER, CharNgramModel, shipped_model
from core.language.combination import (
    NGRAM_FEATURES,
    Opinions,
    ngram_stage_probabilities,
    opinions_needed,
    stage_probabilities,
)
from core.language.combiner import Combiner, shipped_combiner
from core.language.detector import UNSURE, Detection, LanguageDetector
from core.language.languages import UNDETERMINED, reply_language
from core.language.library_detectors import (
    LIBRARY_LANGUAGES,
    cld2_guess,
    lingua_distribution,
    py3langid_distribution,
    shared_lingua,
)
from core.language.masking import SPAN_PATTERNS, blank_all
from core.language.neighbours import second_look
from core.language.scripts import (
    SINGLE_LANGUAGE_SCRIPTS,
    han_variant,
    letter_scripts,
    load_script_table,
    script_counts,
)

# Fewer letters than this say nothing reliable about a language.
MIN_LETTERS = 4
# Han characters carry more information each: two are enough to name Chinese.
MIN_HAN = 2
# Text made of fewer different letters than this ("w1 w2 w3", "aaa aaa") is not language.
MIN_DISTINCT_LETTERS = 3
# The Latin-1 characters `scripts.letter_scripts` counts as letters of another script, and
# every other Latin-1 character it does not count as a Latin letter: for counting the letters
# of Latin-1 text (most messages) at C speed.
_LATIN1_OTHER_LETTERS = "\xaa\xb5\xba"
_LATIN1_NOT_LATIN = bytes(code for code in range(256) if letter_scripts(chr(code))[0] != "Latin")
_LATIN1_END = "\xff"
# Asides in brackets: a list of names, a formula, a gloss in another language.
_ASIDE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
# A text read as a language outside BLOOM is read again without its bracketed asides, numbers,
# quotes, code and links when at least this many letters are left: fewer say too little.
# Capitalised words stay: in German and its kin they are the nouns, and without them the
# function words left read as a BLOOM language.
MIN_PROSE_LETTERS = 12


class DefaultDetector(LanguageDetector):
    """Knows all of BLOOM's languages; answers "und" only for short, mixed or foreign text.

    Seven BLOOM languages have a script of their own (Gujarati, Punjabi, Odia, Tamil, Telugu,
    Kannada, Malayalam): the letters answer at once. Chinese is split into simplified and
    traditional by the characters only one form uses; Kana makes it Japanese (not BLOOM). In the
    Latin, Arabic, Devanagari and Bengali scripts a `Combiner` turns the shipped character
    n-gram model's scores into one probability per candidate language (and "other", for
    languages outside BLOOM), adding CLD2, then py3langid and lingua, only while the stages
    before leave it unsure; when the best candidate is one of a few close neighbours (isiXhosa
    and isiZulu, the Sotho-Tswana languages, Kinyarwanda and Kirundi), a second n-gram model
    trained on them alone shares their probability out again (`neighbours.second_look`). The
    best candidate is the answer when its probability reaches the combiner's threshold
    (`Combiner.min_confidence`, or `min_confidence` when given). When the best candidate is
    "other", the text is read again without its bracketed asides and what `masking` blanks as
    spans (numbers, quotes, code, links): a bracketed list of foreign names or a formula in a
    BLOOM sentence can outweigh its own words. Twi is answered as Akan, its reply language
    (`languages.reply_language`).
    """

    name = "default"

    def __init__(
        self,
        *,
        model: CharNgramModel | None = None,
        combiner: Combiner | None = None,
        min_confidence: float | None = None,
        neighbour_model: CharNgramModel | None = None,
    ) -> None:
        self._model = model
        self._combiner = combiner
        self._min_confidence = min_confidence
        self._neighbour_model = neighbour_model
        # The languages of the combiner's groups of close neighbours (`neighbours.second_look`).
        self._grouped = frozenset() if combiner is None else _grouped(combiner)

    def load(self) -> None:
        """Load every model now (a few seconds, mostly lingua) rather than on first use."""
        self._parts()
        load_script_table()
        shared_lingua().load()
        py3langid_distribution("warm up")
        cld2_guess("warm up")
        # Compiles (or loads from numba's cache) the n-gram stage's arithmetic now.
        self.detect("The weather was fine in the city yesterday.")

    def parts(self) -> tuple[CharNgramModel, Combiner]:
        """The n-gram model and the combiner this detector names languages with."""
        return self._parts()

    def _parts(self) -> tuple[CharNgramModel, Combiner]:
        if self._model is None:
            self._model = shipped_model()
        if self._combiner is None:
            self._combiner = shipped_combiner()
            self._grouped = _grouped(self._combiner)
        if self._neighbour_model is None and self._combiner.neighbours:
            self._neighbour_model = shipped_model(NEIGHBOURS_FILE)
        return self._model, self._combiner

    @property
    def languages(self) -> frozenset[str]:
        model, _ = self._parts()
        named = set(SINGLE_LANGUAGE_SCRIPTS.values()) | {"zh", "zh-hant"}
        named |= {code for code in model.languages if code != OTHER}
        # Twi is named as Akan, its reply language: a Twi target agrees with an "ak" answer.
        named |= {"tw"} if reply_language("tw") in named else set()
        return frozenset(named)

    @property
    def min_confidence(self) -> float:
        """The least probability with which a language is named."""
        if self._min_confidence is not None:
            return self._min_confidence
        return self._parts()[1].min_confidence

    def detect(self, text: str) -> Detection:
        script, count, total = letters_by_script(text)
        if not total:
            return UNSURE
        share = count / total
        if script == "Han":
            if (total > count and script_counts(text).get("Kana", 0)) or count < MIN_HAN:
                return Detection(UNDETERMINED, 0.0, script=script)
            variant = han_variant(text)
            return Detection(variant, share, {variant: share}, script=script)
        if total < MIN_LETTERS:
            return Detection(UNDETERMINED, 0.0, script=script)
        single = SINGLE_LANGUAGE_SCRIPTS.get(script)
        if single is not None:
            return Detection(single, share, {single: share}, script=script)
        _, combiner = self._parts()
        candidates = combiner.candidates.get(script)
        if candidates is None:
            # Cyrillic, Greek, Hangul, Kana, Thai...: no BLOOM language is written in them.
            return Detection(UNDETERMINED, share, script=script)
        if not has_distinct_letters(text, MIN_DISTINCT_LETTERS):
            return Detection(UNDETERMINED, 0.0, script=script)
        return self.combine(text, script, candidates)

    def combine(self, text: str, script: str, candidates: tuple[str, ...]) -> Detection:
        """The combination's answer among `candidates` (the languages of `script`), from the
        text's prose when the whole text reads as a language outside BLOOM."""
        found = self._combined(text, script, candidates)
        if found.sure or not found.scores or found.confidence <= max(found.scores.values()):
            return found
        # The best candidate is "other": read the text again without its asides, once.
        rest = " ".join(blank_all(SPAN_PATTERNS, _ASIDE.sub(" ", text)).split())
        if rest == text or sum(map(str.isalpha, rest)) < MIN_PROSE_LETTERS:
            return found
        again = self._combined(rest, script, candidates)
        return again if again.sure else found

    def _combined(self, text: str, script: str, candidates: tuple[str, ...]) -> Detection:
        model, combiner = self._parts()
        # The cheapest models first; each later stage asks the models it adds only when the
        # stages before it leave the answer open.
        asked: dict[str, Any] = {}
        values: list[float] = []
        for position, stage in enumerate(combiner.stages):
            for field in opinions_needed(stage.features):
                if field not in asked:
                    asked[field] = _ASK[field](model, text, candidates)
            grams = asked.get("ngrams")
            if stage.features == NGRAM_FEATURES and grams is not None and grams.ngrams:
                # Most texts are settled here: in plain floats, without array calls.
                values = ngram_stage_probabilities(grams, candidates, stage, LIBRARY_LANGUAGES)
            else:
                values = stage_probabilities(
                    Opinions(**asked), candidates, stage, LIBRARY_LANGUAGES
                ).tolist()
            if position < len(combiner.exits) and max(values) >= combiner.exits[position]:
                break
        # Best first (pairs compare by probability, then by code: one sort without a key).
        ranked = sorted(zip(values, candidates, strict=True), reverse=True)
        if ranked[0][1] in self._grouped and self._neighbour_model is not None:
            found = np.array(values)
            refined = second_look(
                text, candidates, found, combiner.neighbours, self._neighbour_model
            )
            if refined is not found:
                ranked = sorted(zip(refined.tolist(), candidates, strict=True), reverse=True)
        confidence, best = ranked[0]
        scores = {code: value for value, code in ranked if code != OTHER}
        needed = combiner.min_confidence if self._min_confidence is None else self._min_confidence
        sure = best != OTHER and confidence >= needed
        return Detection(best if sure else UNDETERMINED, confidence, scores, script=script)


# How to get each model's opinion of a text (an `Opinions` field), when a stage needs it.
_ASK: dict[str, Callable[[CharNgramModel, str, tuple[str, ...]], Any]] = {
    "cld2": lambda model, text, candidates: cld2_guess(text),
    "ngrams": lambda model, text, candidates: model.scores(text, among=candidates),
    "py3langid": lambda model, text, candidates: py3langid_distribution(text),
    "lingua": lambda model, text, candidates: lingua_distribution(text),
}


def letters_by_script(text: str) -> tuple[str, int, int]:
    """The script most of `text`'s letters are written in ("" when it has none), how many of
    its letters are in that script, and how many letters it has."""
    latin = _latin1_letters(text)
    if latin is not None:
        return "Latin", latin, latin
    found, count, total = letter_scripts(text)
    return found or "", count, total


def _latin1_letters(text: str) -> int | None:
    """The letters of `text` when it is Latin-1 and every letter in it is Latin, as
    `letter_scripts` counts them; None otherwise."""
    if not text.isascii() and (max(text) > _LATIN1_END or _has_any(text, _LATIN1_OTHER_LETTERS)):
        return None
    return len(text.encode("latin-1").translate(None, _LATIN1_NOT_LATIN))


def _has_any(text: str, chars: str) -> bool:
    return any(char in text for char in chars)


def _grouped(combiner: Combiner) -> frozenset[str]:
    return frozenset(code for group in combiner.neighbours for code in group.languages)


def has_distinct_letters(text: str, needed: int) -> bool:
    """Whether `text` has `needed` different letters (stops looking once it has: in prose,
    after a few characters)."""
    seen: set[str] = set()
    for char in text:
        if char.isalpha():
            seen.add(char.lower())
            if len(seen) >= needed:
                return True
    return False
