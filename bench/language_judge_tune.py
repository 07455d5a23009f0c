"""Choose the streaming guard's thresholds (`core/language/judge.py`) on the tuning data.

Run: .venv/bin/python -m bench.language_judge_tune --data ../shared/eval/langid

A reply sentence is judged foreign when the detector names a language with at least
FOREIGN_CONFIDENCE and gives the reply's target at most TARGET_AT_MOST. Every tuning sentence
(of 40-200 characters, the length of a reply's sentence) is detected once, and so is its first
half (the guard also judges sentences still being written); for each pair of thresholds the
table prints the share of sentences judged foreign against a target in another language (a
switch caught at that sentence) and the share of sentences or halves judged foreign against
their own language (a reply wrongly cut). judge.py's thresholds are read off this table; the
dev part is left to bench.language_guard_eval.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.language_data import load_part
from bench.language_eval import DEFAULT_DATA
from core.language.default_detector import DefaultDetector
from core.language.languages import is_close, reply_language

CONFIDENCES = (0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98)
TARGET_SHARES = (0.01, 0.02, 0.05, 0.1, 0.2)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared/eval/langid folder")
    args = parser.parse_args(argv)
    detector = DefaultDetector()
    detector.load()
    known = sorted(detector.languages - {"tw"})
    sentences = [
        item
        for item in load_part(args.data, "tuning")
        if item.kind == "sentence" and 40 <= len(item.text) <= 200
    ]
    # Per sentence: its confidence, whether it would be foreign against its own language when
    # sure enough, and the score it gives each other target it would be foreign against.
    confidence, against_own, own_score = [], [], []
    half_confidence, half_against_own, half_own_score = [], [], []
    other_scores: list[list[float]] = []
    by_language: list[str] = []
    for item in sentences:
        found = detector.detect(item.text)
        own = reply_language(item.language)
        confidence.append(found.confidence)
        against_own.append(found.sure and not is_close(found.language, own))
        own_score.append(found.score(own))
        # 1.0 (never foreign) where the sentence would agree with the target or is unsure.
        other_scores.append(
            [
                found.score(code) if found.sure and not is_close(found.language, code) else 1.0
                for code in known
                if not is_close(code, own)
            ]
        )
        by_language.append(item.language)
        words = item.text.split()
        half = detector.detect(" ".join(words[: max(2, len(words) // 2)]))
        half_confidence.append(half.confidence)
        half_against_own.append(half.sure and not is_close(half.language, own))
        half_own_score.append(half.score(own))
    conf = np.array(confidence)
    wrong_base = np.array(against_own)
    own_share = np.array(own_score)
    languages = sorted(set(by_language))
    print(
        f"{len(sentences)} tuning sentences of 40-200 characters in {len(languages)} languages, "
        f"{len(known)} targets; % judged foreign, averaged over the languages"
    )
    print(f"{'confidence':>10} {'target<=':>8} {'switch caught':>14} {'wrongly cut':>12}")
    for level in CONFIDENCES:
        for share in TARGET_SHARES:
            caught = defaultdict(list)
            wrong = defaultdict(list)
            for row, scores in enumerate(other_scores):
                sure_enough = bool(conf[row] >= level)
                hits = [sure_enough and score <= share for score in scores]
                caught[by_language[row]].append(float(np.mean(hits)) if hits else 0.0)
                wrong[by_language[row]].append(
                    bool(wrong_base[row] and sure_enough and own_share[row] <= share)
                )
                wrong[by_language[row]].append(
                    bool(
                        half_against_own[row]
                        and half_confidence[row] >= level
                        and half_own_score[row] <= share
                    )
                )
            switch = float(np.mean([np.mean(caught[code]) for code in languages]))
            cut = float(np.mean([np.mean(wrong[code]) for code in languages]))
            print(f"{level:>10.2f} {share:>8.2f} {switch * 100:>13.1f}% {cut * 100:>11.2f}%")


if __name__ == "__main__":
    main()
