"""Calibrated combination of CLD2, the character n-gram model, py3langid and lingua.

For a text in a script several BLOOM languages share, every candidate language of that script
(plus "other", a language outside BLOOM) gets a feature vector from each model's opinion; a
conditional logit (weights fitted on the tuning data by `bench/language_model_train.py`) turns
them into one probability per candidate. The stages (their features are stored with their
weights) ask ever more models: when a stage's best probability is below its exit, the next one
adds models (the cheap ones first, py3langid and lingua last). The probabilities of every stage
are on one scale: each stage is fitted to minimise log loss on the same tuning texts.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from core.compiled import compiled
from core.language.char_ngrams import NgramScores
from core.language.library_detectors import NO_GUESS, Cld2Guess

# The features of each stage: the n-gram model alone (tens of us), then CLD2 as well (about
# 15 us more), then py3langid and lingua as well (hundreds of us). A stage answers alone when it
# is sure enough (`Combiner.exits`), so most texts never pay for the later models.
NGRAM_FEATURES = ("ngram",)
FAST_FEATURES = ("cld2_top", "cld2_top_reliable", "cld2_share", "cld2_unknown", "ngram")
STAGE_FEATURES: tuple[tuple[str, ...], ...] = (
    NGRAM_FEATURES,
    FAST_FEATURES,
    (*FAST_FEATURES, "py3langid", "py3langid_unknown", "lingua", "lingua_unknown"),
)
# The `Opinions` field each feature reads, by the feature's first word.
_OPINION_OF = {"cld2": "cld2", "ngram": "ngrams", "py3langid": "py3langid", "lingua": "lingua"}


@functools.cache
def opinions_needed(names: tuple[str, ...]) -> tuple[str, ...]:
    """The `Opinions` fields the features `names` read."""
    return tuple(dict.fromkeys(_OPINION_OF[name.split("_")[0]] for name in names))


# The n-gram model's log-probabilities below this carry no more information.
_NGRAM_FLOOR = -30.0
# log(probability) below this carries no more information (py3langid, lingua).
_FLOOR = math.exp(-15.0)


@dataclass(frozen=True)
class Opinions:
    """What each model said about one text, as far as the stages asked."""

    cld2: Cld2Guess | None = None
    ngrams: NgramScores | None = None
    py3langid: Mapping[str, float] | None = None
    lingua: Mapping[str, float] | None = None


# Compared and hashed by identity: a stage is a key of the caches below.
@dataclass(frozen=True, eq=False)
class StageWeights:
    """Weights of one stage: one per feature, a bias per candidate, and per candidate an extra
    weight on each of `TRUSTED_FEATURES` (`trust[feature][code]`): CLD2 and the n-gram model
    are surer of some languages than of others (the n-gram model of Bambara more than of
    Kirundi against Kinyarwanda)."""

    features: tuple[str, ...]
    weights: npt.NDArray[np.float64]
    bias: Mapping[str, float]
    trust: Mapping[str, Mapping[str, float]]


TRUSTED_FEATURES = ("cld2_top_reliable", "ngram")


@dataclass(frozen=True)
class _Layout:
    """What `features` needs about one candidate list and feature list, worked out once."""

    positions: npt.NDArray[np.intp]
    rows: Mapping[str, int]
    columns: Mapping[str, int]
    # The "<library>_unknown" columns, filled in once: 1 where the library cannot name a candidate.
    template: npt.NDArray[np.float64]


_LAYOUTS: dict[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], _Layout] = {}


def _layout(
    languages: tuple[str, ...],
    candidates: tuple[str, ...],
    names: tuple[str, ...],
    known: Mapping[str, frozenset[str]],
) -> _Layout:
    key = (languages, candidates, names)
    found = _LAYOUTS.get(key)
    if found is None:
        index = {code: position for position, code in enumerate(languages)}
        columns = {name: position for position, name in enumerate(names)}
        template = np.zeros((len(candidates), len(names)))
        for library, codes in known.items():
            if f"{library}_unknown" in columns:
                template[:, columns[f"{library}_unknown"]] = [
                    float(code not in codes) for code in candidates
                ]
        found = _Layout(
            np.array([index[code] for code in candidates], dtype=np.intp),
            {code: row for row, code in enumerate(candidates)},
            columns,
            template,
        )
        _LAYOUTS[key] = found
    return found


def features(
    opinions: Opinions,
    candidates: Sequence[str],
    names: Sequence[str],
    known: Mapping[str, frozenset[str]],
    languages: tuple[str, ...],
) -> npt.NDArray[np.float64]:
    """The (candidates by features) matrix for one text; `languages` are the n-gram model's."""
    layout = _layout(languages, tuple(candidates), tuple(names), known)
    column = layout.columns
    matrix = layout.template.copy()
    grams = opinions.ngrams
    if grams is not None and grams.ngrams and "ngram" in column:
        # Log-softmax of the model's logits over this text's candidates.
        logits = grams.logits[layout.positions].astype(np.float64)
        logits -= logits.max()
        logits -= math.log(float(np.exp(logits).sum()))
        matrix[:, column["ngram"]] = np.maximum(logits, _NGRAM_FLOOR) / 5.0
    guess = opinions.cld2 if "cld2_share" in column and opinions.cld2 else NO_GUESS
    for rank, (code, value) in enumerate(zip(guess.languages, guess.shares, strict=True)):
        row = layout.rows.get(code)
        if row is not None:
            matrix[row, column["cld2_share"]] = value
            if rank == 0:
                matrix[row, column["cld2_top"]] = 1.0
                matrix[row, column["cld2_top_reliable"]] = float(guess.reliable)
    for library in ("py3langid", "lingua"):
        found: Mapping[str, float] | None = getattr(opinions, library)
        if library in column and found is not None:
            values = np.array([found.get(code, 0.0) for code in layout.rows])
            matrix[:, column[library]] = np.log(np.maximum(values, _FLOOR)) / 5.0
    return matrix


_VECTORS: dict[
    tuple[StageWeights, tuple[str, ...]], tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
] = {}


def _vectors(
    stage: StageWeights, candidates: tuple[str, ...]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The stage's bias per candidate, and its (candidates by features) weights with trust."""
    key = (stage, candidates)
    found = _VECTORS.get(key)
    if found is None:
        # Per candidate, each feature's weight plus that candidate's trust in it.
        weights = np.tile(stage.weights, (len(candidates), 1))
        for feature, trust in stage.trust.items():
            column = stage.features.index(feature)
            weights[:, column] += [trust.get(code, 0.0) for code in candidates]
        found = (np.array([stage.bias.get(code, 0.0) for code in candidates]), weights)
        _VECTORS[key] = found
    return found


def probabilities(
    matrix: npt.NDArray[np.float64], stage: StageWeights, candidates: Sequence[str]
) -> npt.NDArray[np.float64]:
    """Softmax of the stage's scores over `candidates`."""
    bias, weights = _vectors(stage, tuple(candidates))
    return _softmax((matrix * weights).sum(axis=1) + bias)


def _softmax(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Softmax of `scores`, in place."""
    scores -= scores.max()
    np.exp(scores, out=scores)
    scores /= scores.sum()
    return scores


@dataclass(frozen=True)
class _Linear:
    """One stage's scores over one candidate list as a sum of per-opinion terms.

    `features` fills a (candidates by features) matrix that is mostly constant (the
    "<library>_unknown" columns) or zero (CLD2 names at most three languages); multiplying it
    out per text costs more than the model calls. Here the constant part is summed once into
    `base`, and each opinion adds only what it can change.
    """

    base: npt.NDArray[np.float64]
    rows: Mapping[str, int]
    # Per candidate, a fifth of the weight of each column that varies (`features` divides
    # those log-probabilities by 5); absent when the stage lacks the column.
    columns: Mapping[str, npt.NDArray[np.float64]]
    # Per candidate, its (top, top_reliable, share) weights and its row, as Python numbers:
    # CLD2 touches one to three rows, cheaper as scalars than as arrays.
    cld2_rows: Mapping[str, tuple[float, float, float, int]]
    # The n-gram column of `columns`, zeros when the stage lacks it (`ngram_stage_probabilities`).
    ngram: npt.NDArray[np.float64]


_LINEAR: dict[tuple[StageWeights, tuple[str, ...]], _Linear] = {}
_CLD2_COLUMNS = ("cld2_top", "cld2_top_reliable", "cld2_share")


def _linear(
    stage: StageWeights, candidates: tuple[str, ...], known: Mapping[str, frozenset[str]]
) -> _Linear:
    key = (stage, candidates)
    found = _LINEAR.get(key)
    if found is None:
        bias, weights = _vectors(stage, candidates)
        layout = _layout(candidates, candidates, stage.features, known)
        base = bias + (layout.template * weights).sum(axis=1)
        column = layout.columns
        varying = {
            name: weights[:, column[name]] / 5.0
            for name in ("ngram", "py3langid", "lingua")
            if name in column
        }
        per_row = [
            [float(value) for value in weights[:, column[name]]]
            if name in column
            else [0.0] * len(candidates)
            for name in _CLD2_COLUMNS
        ]
        cld2_rows = {
            code: (per_row[0][row], per_row[1][row], per_row[2][row], row)
            for row, code in enumerate(candidates)
        }
        ngram = varying.get("ngram", np.zeros(len(candidates)))
        found = _Linear(base, layout.rows, varying, cld2_rows, ngram)
        _LINEAR[key] = found
    return found


def ngram_stage_probabilities(
    grams: NgramScores,
    candidates: tuple[str, ...],
    stage: StageWeights,
    known: Mapping[str, frozenset[str]],
) -> list[float]:
    """`stage_probabilities` of a stage whose only feature is "ngram" (`NGRAM_FEATURES`), for
    a text with n-grams: the same sums in one compiled pass, as a few dozen candidates cost
    less that way than in a dozen array calls."""
    linear = _linear(stage, candidates, known)
    logits = grams.logits if grams.languages == candidates else _candidate_logits(grams, candidates)
    found: list[float] = _ngram_stage(logits, linear.base, linear.ngram, _NGRAM_FLOOR).tolist()
    return found


@compiled
def _ngram_stage(
    logits: npt.NDArray[np.floating[Any]],
    base: npt.NDArray[np.float64],
    weight: npt.NDArray[np.float64],
    floor: float,
) -> npt.NDArray[np.float64]:
    """Softmax of `base` plus `weight` times each logit's log-softmax (at least `floor`)."""
    size = len(logits)
    top = np.float64(logits.max())
    total = 0.0
    for row in range(size):
        total += math.exp(np.float64(logits[row]) - top)
    shift = top + math.log(total)
    scores = np.empty(size)
    for row in range(size):
        scores[row] = base[row] + weight[row] * max(np.float64(logits[row]) - shift, floor)
    top = scores.max()
    total = 0.0
    for row in range(size):
        scores[row] = math.exp(scores[row] - top)
        total += scores[row]
    scores /= total
    return scores


_POSITIONS: dict[tuple[tuple[str, ...], tuple[str, ...]], npt.NDArray[np.intp]] = {}


def _candidate_logits(grams: NgramScores, candidates: tuple[str, ...]) -> npt.NDArray[np.float64]:
    """The n-gram logits of `candidates`, in their order."""
    if grams.languages == candidates:
        # Scored for these candidates only (`CharNgramModel.scores(text, among=...)`).
        return grams.logits.astype(np.float64)
    key = (grams.languages, candidates)
    positions = _POSITIONS.get(key)
    if positions is None:
        index = {code: position for position, code in enumerate(grams.languages)}
        positions = _POSITIONS[key] = np.array([index[code] for code in candidates])
    return grams.logits[positions].astype(np.float64)


def stage_probabilities(
    opinions: Opinions,
    candidates: Sequence[str],
    stage: StageWeights,
    known: Mapping[str, frozenset[str]],
) -> npt.NDArray[np.float64]:
    """`probabilities(features(...), stage, candidates)` without building the feature matrix:
    the same numbers (up to rounding), at a fraction of the cost per text."""
    candidates = tuple(candidates)
    linear = _linear(stage, candidates, known)
    grams = opinions.ngrams
    if stage.features == NGRAM_FEATURES and grams is not None and grams.ngrams:
        return np.array(ngram_stage_probabilities(grams, candidates, stage, known))
    weight = linear.columns.get("ngram")
    if weight is not None and grams is not None and grams.ngrams:
        # In place on the logits' own copy: each array call costs about a microsecond.
        scores = _candidate_logits(grams, candidates)
        scores -= scores.max()
        scores -= math.log(float(np.exp(scores).sum()))
        np.maximum(scores, _NGRAM_FLOOR, out=scores)
        scores *= weight
        scores += linear.base
    else:
        scores = linear.base.copy()
    guess = opinions.cld2 or NO_GUESS
    reliable = float(guess.reliable)
    for rank, (code, value) in enumerate(zip(guess.languages, guess.shares, strict=True)):
        found = linear.cld2_rows.get(code)
        if found is not None:
            top, top_reliable, share, row = found
            added = value * share
            if rank == 0:
                added += top + reliable * top_reliable
            scores[row] += added
    for library in ("py3langid", "lingua"):
        distribution: Mapping[str, float] | None = getattr(opinions, library)
        weight = linear.columns.get(library)
        if weight is not None and distribution is not None:
            values = np.array([distribution.get(code, 0.0) for code in linear.rows])
            scores += np.log(np.maximum(values, _FLOOR)) * weight
    return _softmax(scores)
