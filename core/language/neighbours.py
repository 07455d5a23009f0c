"""A second look at text the combination names as one of a few close neighbours.

isiXhosa and isiZulu, the Sotho-Tswana languages (Sepedi, Sesotho, Setswana), and Kinyarwanda
and Kirundi share most of their short character n-grams, so the first n-gram model, whose every
hash bucket serves all its languages, tells them apart less surely than anything else it knows.
When the combination's best candidate is one of them, a second n-gram model trained on these
languages only (longer n-grams, more buckets, `NEIGHBOURS_FILE`) has its say: a conditional
logit fitted on the tuning data (`bench/language_model_train.py`) shares the group's combined
probability out again from the combination's own split and the second model's. The group's
total, and every other candidate's probability, stay as they were, so the answer stays on the
combination's scale and the naming threshold applies to it unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from core.language.char_ngrams import CharNgramModel, NgramScores
from core.language.combination import probabilities
from core.language.combiner import NeighbourGroup

# The groups, each a few languages the first model confuses with one another.
NEIGHBOUR_GROUPS: tuple[tuple[str, ...], ...] = (("xh", "zu"), ("nso", "st", "tn"), ("rn", "rw"))
# One feature per source of opinion: the combination's split of the group, the second model's.
NEIGHBOUR_FEATURES = ("combined", "ngram")
# Log-probabilities below this carry no more information.
_FLOOR = -30.0
# The second model's logits differ by tens between languages (a median of 40 on the groups'
# text): divided by this before the softmax, its log-probabilities keep their order of
# magnitude rather than sitting at the floor.
TEMPERATURE = 10.0
_SMALLEST = math.exp(_FLOOR)


def neighbour_features(
    shares: npt.NDArray[np.float64], grams: NgramScores
) -> npt.NDArray[np.float64]:
    """The (languages by features) matrix of one text: the log of the combination's split of
    the group's probability and the second model's log-softmax over the group (its logits over
    `TEMPERATURE`), floored and divided by 5 like the combination's own features."""
    combined = np.log(np.maximum(shares / max(float(shares.sum()), _SMALLEST), _SMALLEST))
    logits = grams.logits.astype(np.float64) / TEMPERATURE
    logits -= logits.max()
    logits -= math.log(float(np.exp(logits).sum()))
    return np.stack([np.maximum(combined, _FLOOR), np.maximum(logits, _FLOOR)], axis=1) / 5.0


def group_of(groups: Sequence[NeighbourGroup], code: str) -> NeighbourGroup | None:
    """The group `code` belongs to, if any."""
    for group in groups:
        if code in group.languages:
            return group
    return None


def second_look(
    text: str,
    candidates: tuple[str, ...],
    found: npt.NDArray[np.float64],
    groups: Sequence[NeighbourGroup],
    model: CharNgramModel,
) -> npt.NDArray[np.float64]:
    """`found` (the combination's probabilities over `candidates`) with the best candidate's
    group, if it has one, shared out again by the second model; unchanged otherwise."""
    group = group_of(groups, candidates[int(found.argmax())])
    if group is None or not all(code in candidates for code in group.languages):
        return found
    grams = model.scores(text, among=group.languages)
    if not grams.ngrams:
        return found
    rows = [candidates.index(code) for code in group.languages]
    total = float(found[rows].sum())
    shares = probabilities(neighbour_features(found[rows], grams), group.stage, group.languages)
    refined = found.copy()
    refined[rows] = total * shares
    return refined
