"""Which word-list entries fire on the public safety set's tuning part, and on what.

Run: .venv/bin/python -m bench.safety_terms --data ../shared/eval/safety [--language fr]
     [--frontier] [--wordlist-dir DIR] [--benign-hits [--sample 60] [--part dev]]

For each entry found at least once, prints how many rows it flags among hateful rows,
other harmful rows and benign rows, so an entry that mostly flags benign text can be dropped.
With `--frontier` (one language), prints instead the trade-off between hate recall and hate
false positives: `hate` entries dropped one at a time, each time the one that costs the fewest
hateful rows per benign row it stops flagging, with the recall and false-positive rate left.
With `--benign-hits`, prints instead the benign rows the lists flag (a seeded `--sample` of
them), with the entries found, to be read by hand: is the row's `benign` label right? That
reading may be done on the dev part (`--part dev`); entries are chosen on the tuning part, the
default, and figures to report come from `bench.safety_eval` on the dev part.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path

from bench.safety_data import DEV, TUNING, SafetyRow, read_rows
from core.safety.categories import HATE
from core.safety.wordlists import WordListClassifier, load_word_lists

# A row's hate entries, as (list, term).
Terms = frozenset[tuple[str, str]]


def frontier(rows: list[SafetyRow], classifier: WordListClassifier) -> list[tuple[str, int, int]]:
    """Hate entries in the order they are best dropped, with hateful and benign rows still flagged.

    The first line is the lists as they are (no entry dropped, named "").
    """
    hateful: list[Terms] = []
    benign: list[Terms] = []
    for row in rows:
        terms = frozenset(
            (m.language, m.term)
            for m in classifier.find(row.text, row.language)
            if m.category == HATE
        )
        if row.harmful and row.category == HATE:
            hateful.append(terms)
        elif not row.harmful:
            benign.append(terms)

    def flagged(group: list[Terms], dropped: set[tuple[str, str]]) -> int:
        return sum(1 for terms in group if terms - dropped)

    dropped: set[tuple[str, str]] = set()
    hate_left, benign_left = flagged(hateful, dropped), flagged(benign, dropped)
    steps = [("", hate_left, benign_left)]
    candidates = {term for terms in benign for term in terms}
    while candidates - dropped:
        best: tuple[float, tuple[str, str], int, int] | None = None
        for term in sorted(candidates - dropped):
            hate_after = flagged(hateful, dropped | {term})
            benign_after = flagged(benign, dropped | {term})
            if benign_after == benign_left:
                continue
            cost = (hate_left - hate_after) / (benign_left - benign_after)
            if best is None or cost < best[0]:
                best = (cost, term, hate_after, benign_after)
        if best is None:
            break
        _, term, hate_left, benign_left = best
        dropped.add(term)
        steps.append((term[1], hate_left, benign_left))
    return steps


def print_frontier(rows: list[SafetyRow], classifier: WordListClassifier, part: str) -> None:
    hateful = sum(1 for row in rows if row.harmful and row.category == HATE)
    benign = sum(1 for row in rows if not row.harmful)
    print(f"hate recall and hate false positives on the {part} part ({hateful} hateful rows,")
    print(f" {benign} benign rows), dropping one entry more on each line:")
    print(f"{'dropped':<24}{'recall':>8}{'FP hate':>9}")
    for term, hate_left, benign_left in frontier(rows, classifier):
        recall = hate_left / hateful if hateful else 0.0
        false_positives = benign_left / benign if benign else 0.0
        print(f"{term or '(none)':<24}{recall:>8.1%}{false_positives:>9.1%}")


def benign_hits(
    rows: list[SafetyRow], classifier: WordListClassifier, sample: int | None, seed: int = 0
) -> list[tuple[SafetyRow, list[str]]]:
    """The benign rows the lists flag, with the categories and entries found, in file order.

    With `sample`, that many of them drawn with `seed` (all of them if there are fewer).
    """
    hits = []
    for row in rows:
        if row.harmful:
            continue
        found = sorted({f"{m.category}:{m.term}" for m in classifier.find(row.text, row.language)})
        if found:
            hits.append((row, found))
    if sample is not None and sample < len(hits):
        chosen = set(random.Random(seed).sample(range(len(hits)), sample))
        hits = [hit for index, hit in enumerate(hits) if index in chosen]
    return hits


def print_benign_hits(
    rows: list[SafetyRow], classifier: WordListClassifier, sample: int | None
) -> None:
    for number, (row, found) in enumerate(benign_hits(rows, classifier, sample), start=1):
        text = " ".join(row.text.split())
        print(f"{number:>4} {row.language:<8}{row.source:<28}{' '.join(found)}\n     {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, required=True, help="the shared/eval/safety folder")
    parser.add_argument("--language", help="only this language (a file name without .tsv)")
    parser.add_argument(
        "--frontier",
        action="store_true",
        help="recall against false positives as entries are dropped (needs --language)",
    )
    parser.add_argument(
        "--benign-hits",
        action="store_true",
        help="print the benign rows the lists flag, to read by hand",
    )
    parser.add_argument("--sample", type=int, help="with --benign-hits: this many rows, seeded")
    parser.add_argument(
        "--part",
        choices=(TUNING, DEV),
        default=TUNING,
        help="the part to read (default: tuning; dev only to read labels, not to choose entries)",
    )
    parser.add_argument(
        "--wordlist-dir",
        type=Path,
        help="an operator's folder of lists, added to the bundled ones (`[remove]` drops entries)",
    )
    args = parser.parse_args()
    if args.frontier and args.language is None:
        parser.error("--frontier needs --language")
    rows = [
        row
        for row in read_rows(args.data, args.part)
        if args.language is None or row.language == args.language
    ]
    classifier = WordListClassifier(load_word_lists(args.wordlist_dir))
    if args.benign_hits:
        print_benign_hits(rows, classifier, args.sample)
        return
    if args.frontier:
        print_frontier(rows, classifier, args.part)
        return
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
