"""A character n-gram linear classifier trained on the tuning part, to see whether it beats the lists.

Run: .venv/bin/python -m bench.safety_classifier --data ../shared/eval/safety

Trains on the permissively licensed tuning rows only (MLMA, COLD, XSTest, MultiJail: never
RTP-LX, nothing non-commercial): hashed character 2- to 4-grams of the normalised text, one
logistic unit, harmful vs benign. Its threshold is the lowest at which lists plus classifier
flag no more of the non-RTP-LX benign tuning rows than the lists alone plus `--fp-budget`.
`bench.safety_eval` then compares lists, classifier and both on the dev part; the package ships
the classifier only if that comparison shows more recall at the same false-positive rate.

As a second opinion on the lists' hits (`--second-opinion`), a list's finding stands only where
the classifier scores the text at or above a threshold. The thresholds are read off the tuning
part, with scores each half of it gets from a classifier trained on the other half: the one at
which the classifier confirms a given share of the lists' hits on hateful tuning rows. The dev
part then shows what each costs in hate recall and saves in false positives, beside the lists'
own trade-off (`bench.safety_terms --frontier`: entries dropped).
"""

from __future__ import annotations

import argparse
import itertools
import math
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.safety_data import TUNING, SafetyRow, read_rows
from core.safety.normalize import normalize

BUCKETS = 1 << 18
NGRAMS = (2, 3, 4)


def features(text: str) -> list[int]:
    """Hashed character n-grams of `text`, normalised as the word lists see it."""
    folded = f" {' '.join(normalize(text).split())} "
    return [
        zlib.crc32(folded[i : i + n].encode()) % BUCKETS
        for n in NGRAMS
        for i in range(len(folded) - n + 1)
    ]


class NgramClassifier:
    """One logistic unit over hashed n-grams (an `EmbeddingBag` of width one), trained by Adam."""

    def __init__(self, seed: int = 0) -> None:
        import torch

        torch.manual_seed(seed)
        self._torch = torch
        self.weights = torch.nn.EmbeddingBag(BUCKETS, 1, mode="mean")
        torch.nn.init.zeros_(self.weights.weight)
        self.bias = torch.nn.Parameter(torch.zeros(1))

    def _logits(self, batch: Sequence[list[int]]) -> Any:
        torch = self._torch
        flat = torch.tensor([i for row in batch for i in row] or [0], dtype=torch.long)
        offsets = torch.tensor(
            [0, *itertools.accumulate(len(row) for row in batch[:-1])], dtype=torch.long
        )
        return self.weights(flat, offsets).squeeze(1) + self.bias

    def fit(self, rows: Sequence[SafetyRow], epochs: int = 6, batch_size: int = 128) -> None:
        torch = self._torch
        encoded = [features(row.text) for row in rows]
        labels = torch.tensor([float(row.harmful) for row in rows])
        optimizer = torch.optim.Adam([self.weights.weight, self.bias], lr=0.05)
        generator = torch.Generator().manual_seed(0)
        for _ in range(epochs):
            order = torch.randperm(len(rows), generator=generator).tolist()
            for start in range(0, len(order), batch_size):
                chosen = order[start : start + batch_size]
                logits = self._logits([encoded[i] for i in chosen])
                loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels[chosen])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

    def scores(self, texts: Sequence[str]) -> list[float]:
        torch = self._torch
        with torch.no_grad():
            result: list[float] = []
            for start in range(0, len(texts), 512):
                batch = [features(text) for text in texts[start : start + 512]]
                result.extend(torch.sigmoid(self._logits(batch)).tolist())
            return result


def train(data: Path) -> NgramClassifier:
    """The classifier trained on the trainable tuning rows."""
    rows = [row for row in read_rows(data, TUNING) if row.trainable]
    classifier = NgramClassifier()
    classifier.fit(rows)
    return classifier


def pick_threshold(
    classifier: NgramClassifier,
    lists_flag: Callable[[SafetyRow], bool],
    data: Path,
    fp_budget: float,
) -> float:
    """The lowest threshold keeping lists-or-classifier within `fp_budget` of the lists' FP rate."""
    benign = [row for row in read_rows(data, TUNING) if row.trainable and not row.harmful]
    listed = [lists_flag(row) for row in benign]
    scores = classifier.scores([row.text for row in benign])
    allowed = sum(listed) + fp_budget * len(benign)
    # Benign rows the lists let through, highest score first: each one passed costs one FP.
    extra = sorted(
        (s for s, flagged in zip(scores, listed, strict=True) if not flagged), reverse=True
    )
    budget = int(allowed - sum(listed))
    return extra[budget] + 1e-9 if budget < len(extra) else 0.0


def cross_fitted_scores(rows: Sequence[SafetyRow]) -> list[float]:
    """Each row's score from a classifier trained on the other half of `rows` (by position)."""
    scores = [0.0] * len(rows)
    for half in (0, 1):
        classifier = NgramClassifier()
        classifier.fit([row for i, row in enumerate(rows) if i % 2 != half])
        held_out = [i for i in range(len(rows)) if i % 2 == half]
        for i, score in zip(
            held_out, classifier.scores([rows[i].text for i in held_out]), strict=True
        ):
            scores[i] = score
    return scores


def confirming_thresholds(
    scores: Sequence[float], hits: Sequence[bool], hateful: Sequence[bool], shares: Sequence[float]
) -> list[float]:
    """For each share: the highest threshold at which that share of the hateful hits score above it.

    `hits` says which rows the lists flag, `hateful` which rows are hateful; all three run in
    parallel. A share of 1.0 keeps every hit.
    """
    confirmed = sorted(
        (score for score, hit, hate in zip(scores, hits, hateful, strict=True) if hit and hate),
        reverse=True,
    )
    if not confirmed:
        return [0.0 for _ in shares]
    return [confirmed[max(0, math.ceil(share * len(confirmed)) - 1)] for share in shares]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, required=True, help="the shared/eval/safety folder")
    parser.add_argument("--fp-budget", type=float, default=0.0)
    args = parser.parse_args()
    from bench.safety_eval import classifier_layers, quality, second_opinion
    from core.safety.wordlists import WordListClassifier

    rows = read_rows(args.data, "dev")
    lists = WordListClassifier()
    classifier = train(args.data)
    for name, layer in classifier_layers(classifier, args.data, args.fp_budget, rows, lists):
        quality(name, layer, rows, args.data, "dev")
    second_opinion(classifier, args.data, rows, "dev", lists)


if __name__ == "__main__":
    main()
