"""The naming threshold by the issue's criterion: most languages right on 99.5 % of sentences.

A threshold is allowed when, averaged over the languages, a wrong language is named for at most
1 % of sentences and 3 % of short texts; of the allowed thresholds, the chosen one brings the
most languages to 99.5 % right on sentences, and of those the highest (the fewest wrong names).
`bench/language_eval.py --curve` applies it to the dev part, `bench/language_model_train.py` to
its out-of-fold tuning answers.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

RIGHT_TARGET = 0.995
WRONG_SENTENCES_LIMIT = 0.01
WRONG_SHORT_LIMIT = 0.03
# Every threshold the criterion looks at, 0.30 to 0.95 in steps of 0.01.
THRESHOLDS = tuple(round(0.30 + step / 100, 2) for step in range(66))


@dataclass(frozen=True)
class Answer:
    """One text: its language in the data, the answer expected (Twi is answered as Akan) and its
    kind, and the best candidate with its probability ("und" when no BLOOM language is the
    best, so no threshold names it)."""

    language: str
    expected: str
    kind: str
    best: str
    confidence: float


@dataclass(frozen=True)
class Point:
    """The figures at one threshold: languages at 99.5 % right on sentences, out of those with
    sentences, and right and wrong shares averaged over the languages."""

    threshold: float
    at_target: int
    measured: int
    right_sentences: float
    right_short: float
    wrong_sentences: float
    wrong_short: float

    @property
    def allowed(self) -> bool:
        """Whether the wrong answers stay within the issue's limits."""
        return (
            self.wrong_sentences <= WRONG_SENTENCES_LIMIT and self.wrong_short <= WRONG_SHORT_LIMIT
        )


def point(answers: Iterable[Answer], threshold: float, undetermined: str = "und") -> Point:
    """The figures when the best candidate is named at `threshold` or more."""
    total: dict[tuple[str, str], int] = defaultdict(int)
    right: dict[tuple[str, str], int] = defaultdict(int)
    wrong: dict[tuple[str, str], int] = defaultdict(int)
    for answer in answers:
        named = answer.best if answer.confidence >= threshold else undetermined
        key = (answer.language, answer.kind)
        total[key] += 1
        right[key] += int(named == answer.expected)
        wrong[key] += int(named not in (answer.expected, undetermined))

    def rates(table: dict[tuple[str, str], int], kind: str) -> list[float]:
        return [table[key] / count for key, count in total.items() if key[1] == kind and count]

    sentences = rates(right, "sentence")
    return Point(
        threshold,
        sum(rate >= RIGHT_TARGET for rate in sentences),
        len(sentences),
        _mean(sentences),
        _mean(rates(right, "short")),
        _mean(rates(wrong, "sentence")),
        _mean(rates(wrong, "short")),
    )


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def curve(answers: Sequence[Answer], thresholds: Sequence[float] = THRESHOLDS) -> list[Point]:
    """The figures at each of `thresholds`."""
    return [point(answers, threshold) for threshold in thresholds]


def choose(points: Sequence[Point]) -> Point:
    """The allowed point with the most languages at target, the highest such threshold."""
    allowed = [found for found in points if found.allowed]
    if not allowed:
        raise ValueError("no threshold keeps the wrong answers within the limits")
    return max(allowed, key=lambda found: (found.at_target, found.threshold))


CRITERION = (
    "chosen: the most languages at >= 99.5 % right on sentences with wrong <= 1 % of sentences "
    "and <= 3 % of short texts (averaged over languages); of those, the highest threshold"
)
