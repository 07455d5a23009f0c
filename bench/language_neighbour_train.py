"""Train the second n-gram model for close neighbours and fit how it shares a group's probability.

Used by `bench/language_model_train.py` after the combination's stages are fitted. For each group
of `core.language.neighbours.NEIGHBOUR_GROUPS` a softmax regression over that group's languages
only is trained on their tuning text (with longer n-grams, in more buckets, than the first
model); the groups' weights sit side by side in one `CharNgramModel`. As for the first model,
the scores the sharing is fitted on are out of fold: each comes from a model trained without
that text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from bench.language_ngram_train import CLASS_POWER, Example, buckets_of, fit, with_crops
from core.language.char_ngrams import CharNgramModel
from core.language.combination import StageWeights
from core.language.combiner import NeighbourGroup
from core.language.neighbours import (
    NEIGHBOUR_FEATURES,
    NEIGHBOUR_GROUPS,
    group_of,
    neighbour_features,
    second_look,
)

# Chosen by 4-fold cross-validation on the tuning part (errors on the groups' sentences, the
# group model alone): 2**16 buckets and 1-4-grams (the first model's) 75, 2**18 and 1-5-grams
# 69, 2**18 and 1-6-grams 58 with word features (not used: one more hashing pass per text).
NEIGHBOUR_BITS = 18
NEIGHBOUR_LONGEST = 5


def _stacked(models: Sequence[CharNgramModel]) -> CharNgramModel:
    """One model holding each group model's languages and weights side by side."""
    languages = tuple(code for model in models for code in model.languages)
    weights = np.hstack([model._weights for model in models])
    bias = np.concatenate([model._bias for model in models])
    return CharNgramModel(languages, weights, NEIGHBOUR_BITS, bias, NEIGHBOUR_LONGEST)


def neighbour_models(
    examples: Sequence[Example],
    fold_of: Callable[[str], int],
    folds: int,
    class_power: float = CLASS_POWER,
) -> tuple[CharNgramModel, list[CharNgramModel]]:
    """The second model on every group's text, and one per fold trained without that fold."""
    finals: list[CharNgramModel] = []
    per_fold: list[list[CharNgramModel]] = [[] for _ in range(folds)]
    for group in NEIGHBOUR_GROUPS:
        chosen = [example for example in examples if example.label in group]
        grown, origin = with_crops(chosen)
        buckets = buckets_of(grown, NEIGHBOUR_BITS, NEIGHBOUR_LONGEST)
        train = (class_power, NEIGHBOUR_BITS, NEIGHBOUR_LONGEST)
        finals.append(fit(grown, group, buckets, *train))
        for fold in range(folds):
            keep = [i for i, source in enumerate(origin) if fold_of(chosen[source].text) != fold]
            kept = [grown[i] for i in keep]
            per_fold[fold].append(fit(kept, group, [buckets[i] for i in keep], *train))
        print(f"second n-gram model for {'/'.join(group)} trained", flush=True)
    return _stacked(finals), [_stacked(models) for models in per_fold]


def fit_groups(
    texts: Sequence[str],
    labels: Sequence[str],
    candidates: Sequence[tuple[str, ...]],
    found: Sequence[npt.NDArray[np.float64]],
    models: Sequence[CharNgramModel],
    fit_stage: Callable[..., StageWeights],
) -> tuple[NeighbourGroup, ...]:
    """Per group, the conditional logit that shares the group's combined probability out
    again, fitted (by `fit_stage`, the combination's own fitting) on the texts of its languages
    the combination (`found`, its probabilities over `candidates`) names as one of them;
    `models[i]` is text i's out-of-fold second model. Each language weighs the same, as in the
    combination."""
    fitted = []
    for group in NEIGHBOUR_GROUPS:
        rows = [
            row
            for row, label in enumerate(labels)
            if label in group and candidates[row][int(found[row].argmax())] in group
        ]
        matrices = []
        for row in rows:
            positions = [candidates[row].index(code) for code in group]
            grams = models[row].scores(texts[row], among=group)
            matrices.append(neighbour_features(found[row][positions], grams))
        count = Counter(labels[row] for row in rows)
        weights = np.array([1.0 / count[labels[row]] for row in rows])
        group_labels = [labels[row] for row in rows]
        stage = fit_stage(matrices, [group] * len(rows), group_labels, weights, NEIGHBOUR_FEATURES)
        fitted.append(NeighbourGroup(group, stage))
        shown = dict(zip(NEIGHBOUR_FEATURES, np.round(stage.weights, 3).tolist(), strict=True))
        print(f"second look at {'/'.join(group)} ({len(rows)} texts): {shown}", flush=True)
    return tuple(fitted)


def refined(
    texts: Sequence[str],
    candidates: Sequence[tuple[str, ...]],
    found: Sequence[npt.NDArray[np.float64]],
    groups: Sequence[NeighbourGroup],
    models: Sequence[CharNgramModel],
) -> list[npt.NDArray[np.float64]]:
    """Every text's probabilities after the second look (with its out-of-fold model)."""
    return [
        second_look(text, group, probabilities, groups, model)
        if group_of(groups, group[int(probabilities.argmax())]) is not None
        else probabilities
        for text, group, probabilities, model in zip(texts, candidates, found, models, strict=True)
    ]
