"""The default detector's cheap answers for sentences in the target language.

Most sentences of a reply are in the conversation's language, and the default detector names
them from its first stages: the character n-gram model alone, or with CLD2 (`combination`),
once a stage is sure enough to answer alone. `QuickAgreement` runs those two stages with the
detector's own functions (`combination.ngram_stage_probabilities`, `stage_probabilities`), and
says "agrees" only when the full detector would certainly name the target from them: the stage
answers alone, its answer clears the naming threshold, and no later step (the second look at
close neighbours) could change it. The full detector then gives the same judgement, at the cost
of an Opinions object and a distribution sorted over every candidate.

A finished sentence is only ever asked whether it is foreign (it is shown unless it is). When
the first two stages leave it open, the last stage (py3langid and lingua, about a millisecond)
decides; but where the second stage already gives the target at least `FINISHED_NOT_FOREIGN`,
the last stage never made a sentence of the tuning part foreign (`bench/finished_sentence_tune.py`),
and it is not asked.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from core.language.char_ngrams import OTHER, CharNgramModel
from core.language.combination import (
    FAST_FEATURES,
    NGRAM_FEATURES,
    Opinions,
    StageWeights,
    ngram_stage_probabilities,
    stage_probabilities,
)
from core.language.combiner import Combiner
from core.language.default_detector import (
    MIN_DISTINCT_LETTERS,
    MIN_LETTERS,
    DefaultDetector,
    has_distinct_letters,
    letters_by_script,
)
from core.language.detector import Detection, LanguageDetector
from core.language.languages import BY_CODE
from core.language.library_detectors import LIBRARY_LANGUAGES, cld2_guess
from core.language.neighbours import NEIGHBOUR_GROUPS
from core.language.scripts import SINGLE_LANGUAGE_SCRIPTS

# A yes needs the target's probability this far above each threshold, so that rounding could
# never turn the full detector's answer around.
MARGIN = 1e-6
# A finished sentence the second stage gives the target this probability is not foreign. Read
# off `bench/finished_sentence_tune.py` on the tuning part: of the sentences and openings the
# last stage judges foreign for a target, the second stage gave that target at most 0.30.
FINISHED_NOT_FOREIGN = 0.5


class QuickAnswer(NamedTuple):
    """`agrees`: the detection naming the target, as the full detector would make it;
    `not_foreign`: a finished sentence that is certainly not foreign. Neither: ask the
    full detector."""

    agrees: Detection | None = None
    not_foreign: bool = False


ASK_THE_DETECTOR = QuickAnswer()


class QuickAgreement:
    """Cheap answers of the default detector for a sentence in the target language."""

    def __init__(
        self, model: CharNgramModel, combiner: Combiner, min_confidence: float | None = None
    ) -> None:
        self._model = model
        # The naming threshold: the detector's own, unless a test gives another.
        self._needed = combiner.min_confidence if min_confidence is None else min_confidence
        exits = combiner.exits
        self._exit = exits[0] if exits else math.inf
        stages = combiner.stages
        # The second stage, when it adds CLD2 alone and a later stage may take over from it.
        self._second: StageWeights | None = None
        if len(stages) > 2 and len(exits) > 1 and stages[1].features == FAST_FEATURES:
            self._second = stages[1]
        self._second_exit = exits[1] if len(exits) > 1 else math.inf
        # Per script of several languages, its candidates (the first stage's rows).
        self._candidates: dict[str, tuple[str, ...]] = {}
        self._excluded: frozenset[str] = frozenset()
        if not stages or stages[0].features != NGRAM_FEATURES:
            return  # a first stage that asks more than the n-gram model: no quick answer
        self._first = stages[0]
        # Neighbours the second look may share a probability out among (when the combiner
        # lists none, no second look is taken, and these are excluded all the same).
        shared = {code for group in combiner.neighbours for code in group.languages}
        shared |= {code for group in NEIGHBOUR_GROUPS for code in group}
        self._excluded = frozenset(shared | {OTHER})
        self._candidates = {
            script: candidates
            for script, candidates in combiner.candidates.items()
            if script not in SINGLE_LANGUAGE_SCRIPTS
        }

    @classmethod
    def of(cls, detector: LanguageDetector) -> QuickAgreement | None:
        """The quick path for `detector`, when it is the default detector."""
        if not isinstance(detector, DefaultDetector):
            return None
        # The detector's own model, combiner and threshold (a test may give it others).
        model, combiner = detector.parts()
        return cls(model, combiner, detector.min_confidence)

    def agreement(self, text: str, target: str) -> Detection | None:
        """The detection naming `target` when the full detector would name it for `text` (as
        it reads it: blanks squeezed) from its first two stages; None: ask the detector."""
        return self.answer(text, target).agrees

    def answer(self, text: str, target: str, *, finished: bool = False) -> QuickAnswer:
        """What the first two stages tell of `text` against `target`; `finished`: the sentence
        is complete, and only whether it is foreign matters."""
        entry = BY_CODE.get(target)
        if entry is None or target in self._excluded:
            return ASK_THE_DETECTOR
        candidates = self._candidates.get(entry.script)
        if candidates is None or target not in candidates:
            return ASK_THE_DETECTOR
        script, _, total = letters_by_script(text)
        if script != entry.script or total < MIN_LETTERS:
            return ASK_THE_DETECTOR
        if not has_distinct_letters(text, MIN_DISTINCT_LETTERS):
            return ASK_THE_DETECTOR
        row = candidates.index(target)
        grams = self._model.scores(text, among=candidates)
        if not grams.ngrams:
            return ASK_THE_DETECTOR
        first = ngram_stage_probabilities(grams, candidates, self._first, LIBRARY_LANGUAGES)
        named = _named(first[row], max(self._exit, self._needed), target, script)
        if named is not None:
            return QuickAnswer(named)
        second = self._second
        if second is None or max(first) >= self._exit:
            return ASK_THE_DETECTOR  # the first stage answers, and not with the target
        found = stage_probabilities(
            Opinions(cld2=cld2_guess(text), ngrams=grams),
            candidates,
            second,
            LIBRARY_LANGUAGES,
        )
        named = _named(float(found[row]), max(self._second_exit, self._needed), target, script)
        if named is not None:
            return QuickAnswer(named)
        if finished and found.max() < self._second_exit and found[row] >= FINISHED_NOT_FOREIGN:
            return QuickAnswer(not_foreign=True)
        return ASK_THE_DETECTOR


def _named(probability: float, needed: float, target: str, script: str) -> Detection | None:
    """The detection naming `target`, when its probability clears `needed` with the margin."""
    if probability < needed + MARGIN:
        return None
    return Detection(target, probability, {target: probability}, script=script)
