"""Which word-list entries fire on the tuning part of the public safety set, and on what.

Run: .venv/bin/python -m bench.safety_terms --data ../shared/eval/safety [--language fr]

For each entry found at least once, prints how many tuning rows it flags among hateful rows,
other harmful rows and benign rows, so an entry that mostly flags benign text can be dropped.
Reads only the tuning part: figures to report come from `bench.safety_eval` on the dev part.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from bench.safety_data import TUNING, read_rows
from core.safety.categories import HATE
from core.safety.wordlists import WordListClassifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, required=True, help="the shared/eval/safety folder")
    parser.add_argument("--language", help="only this language (a file name without .tsv)")
    args = parser.parse_args()
    rows = [
        row
        for row in read_rows(args.data, TUNING)
        if args.language is None or row.language == args.language
    ]
    classifier = WordListClassifier()
    hits: dict[tuple[str, str, str], Counter[str]] = {}
    for row in rows:
        group = (
            "hate"
            if row.harmful and row.category == HATE
            else "harmful"
            if row.harmful
            else "benign"
        )
        for match in {
            (m.language, m.category, m.term) for m in classifier.find(row.text, row.language)
        }:
            hits.setdefault(match, Counter())[group] += 1
    print(f"{'list':<5}{'category':<11}{'entry':<28}{'hate':>6}{'harmful':>9}{'benign':>8}")
    for (language, category, term), counts in sorted(
        hits.items(), key=lambda item: (item[0][0], item[0][1], -item[1]["benign"], item[0][2])
    ):
        print(
            f"{language:<5}{category:<11}{term:<28}"
            f"{counts['hate']:>6}{counts['harmful']:>9}{counts['benign']:>8}"
        )


if __name__ == "__main__":
    main()
