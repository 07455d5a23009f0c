"""Where the language guard may skip the detector's last stage for a finished sentence.

Run: .venv/bin/python -m bench.finished_sentence_tune [--data DIR] [--part tuning]

A finished sentence is only asked whether it is foreign. The default detector's last stage
(py3langid and lingua) costs about a millisecond and decides only texts its first two stages
(the n-gram model, then CLD2 with it) leave open. For every sentence of the part (whole, and
its first 20, 32 and 48 characters, masked as the guard masks them) that reaches the last
stage, and every candidate target of its script other than its own language and close
neighbours, this prints how often the full detector judges it foreign although the second
stage gave that target at least a given probability: `quick_agreement.FINISHED_NOT_FOREIGN`
is read off here, on the tuning part only.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from bench.langid_data import DEFAULT_DATA
from bench.language_data import load_part
from core.language.combination import Opinions, stage_probabilities
from core.language.default_detector import DefaultDetector
from core.language.judge import MIN_LETTERS, SentenceJudge
from core.language.languages import is_close
from core.language.library_detectors import LIBRARY_LANGUAGES, cld2_guess
from core.language.masking import mask
from core.language.quick_agreement import FINISHED_NOT_FOREIGN
from core.language.scripts import letter_scripts

CUTS = (20, 32, 48)
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def main(data: Path, part: str) -> None:
    detector = DefaultDetector()
    detector.load()
    model, combiner = detector.parts()
    judge = SentenceJudge(detector)
    stages = Counter[str]()
    # The second stage's probability of each target the full detector judged foreign.
    foreign: list[tuple[float, str, str, str]] = []
    for item in load_part(data / "langid", part):
        whole = " ".join(mask(item.text).split())
        for text in {whole, *(whole[:cut] for cut in CUTS)}:
            if sum(map(str.isalpha, text)) < MIN_LETTERS:
                continue
            script = "Latin" if text.isascii() else letter_scripts(text)[0]
            candidates = combiner.candidates.get(script or "")
            if candidates is None:
                continue
            grams = model.scores(text, among=candidates)
            first = stage_probabilities(
                Opinions(ngrams=grams), candidates, combiner.stages[0], LIBRARY_LANGUAGES
            )
            if first.max() >= combiner.exits[0]:
                stages["first"] += 1
                continue
            second = stage_probabilities(
                Opinions(cld2=cld2_guess(text), ngrams=grams),
                candidates,
                combiner.stages[1],
                LIBRARY_LANGUAGES,
            )
            if second.max() >= combiner.exits[1]:
                stages["second"] += 1
                continue
            stages["last"] += 1
            found = detector.detect(text)
            for row, target in enumerate(candidates):
                if target == "other" or is_close(target, item.language):
                    continue
                if judge.decide(found, target, None, text).foreign:
                    foreign.append((float(second[row]), item.language, target, text))
    print(
        f"{part} part: texts answered by the first stage {stages['first']}, "
        f"the second {stages['second']}, the last {stages['last']}"
    )
    print(f"foreign judgements by the last stage: {len(foreign)}; the second stage gave the")
    print(f"  target at most {max((row[0] for row in foreign), default=0.0):.3f}")
    for threshold in THRESHOLDS:
        missed = [row for row in foreign if row[0] >= threshold]
        marker = "  <- FINISHED_NOT_FOREIGN" if threshold == FINISHED_NOT_FOREIGN else ""
        print(f"  second stage >= {threshold:.1f}: {len(missed)} foreign judgements lost{marker}")
        for probability, language, target, text in missed[:3]:
            print(f"    {language} text, target {target} ({probability:.3f}): {text[:60]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--part", choices=("tuning", "dev"), default="tuning")
    arguments = parser.parse_args()
    main(arguments.data, arguments.part)
