"""Language detection and streaming language guard, measured on tests/data/language.

Run: .venv/bin/python -m bench.language_eval [--detectors-only | --guard-only]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.language.default_detector import DefaultDetector, detectors_for_evaluation
from core.language.detector import LanguageDetector
from core.language.languages import BLOOM_LANGUAGES, UNDETERMINED, detectable_by_any

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "language" / "sentences.tsv"
UNSPACED = frozenset({"zh", "zh-hant"})


@dataclass(frozen=True)
class Sample:
    """One evaluation text and the answer a perfect detector gives."""

    language: str
    text: str
    expected: str


def load_sentences(path: Path = DATA) -> list[tuple[str, str]]:
    """(code, sentence) pairs of the evaluation set."""
    pairs: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, sentence = line.split("\t", 1)
        pairs.append((code, sentence.strip()))
    return pairs


def fragments(code: str, sentence: str) -> list[str]:
    """The first and last three words of a sentence (six characters for Chinese)."""
    if code in UNSPACED:
        letters = "".join(char for char in sentence if char.isalnum())
        return [letters[:6], letters[-6:]]
    words = sentence.split()
    return [" ".join(words[:3]), " ".join(words[-3:])]


def expected_answer(code: str) -> str:
    """What a detector should say: the code, or "und" for languages no library knows."""
    return code if code in detectable_by_any() else UNDETERMINED


def samples(kind: str) -> list[Sample]:
    """Whole sentences (`kind="sentence"`) or three-word fragments (`kind="fragment"`)."""
    found: list[Sample] = []
    for code, sentence in load_sentences():
        texts = [sentence] if kind == "sentence" else fragments(code, sentence)
        found.extend(Sample(code, text, expected_answer(code)) for text in texts)
    return found


@dataclass
class Score:
    """Accuracy per language and time per call of one detector on one kind of sample."""

    correct: dict[str, int]
    wrong: dict[str, int]
    total: dict[str, int]
    seconds: float
    calls: int

    def accuracy(self, code: str) -> float:
        return self.correct[code] / self.total[code] if self.total[code] else 0.0

    def wrong_share(self) -> float:
        """Share of texts named as a wrong language (an unsure "und" is not counted)."""
        return sum(self.wrong.values()) / max(sum(self.total.values()), 1)

    def mean(self, codes: Sequence[str]) -> float:
        return statistics.fmean(self.accuracy(code) for code in codes)

    @property
    def micros(self) -> float:
        return self.seconds / self.calls * 1e6


def evaluate(detector: LanguageDetector, items: Sequence[Sample]) -> Score:
    """Run `detector` over `items` once to warm up, then timed."""
    for item in items[:20]:
        detector.detect(item.text)
    correct: dict[str, int] = defaultdict(int)
    wrong: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    started = time.perf_counter()
    answers = [detector.detect(item.text).language for item in items]
    seconds = time.perf_counter() - started
    for item, answer in zip(items, answers, strict=True):
        total[item.language] += 1
        correct[item.language] += int(answer == item.expected)
        wrong[item.language] += int(answer not in (item.expected, UNDETERMINED))
    return Score(correct, wrong, total, seconds, len(items))


def detector_table(detectors: Sequence[LanguageDetector]) -> None:
    """Per-language accuracy (sentences / fragments) for every detector, then summaries."""
    sentences, frags = samples("sentence"), samples("fragment")
    results = {d.name: (evaluate(d, sentences), evaluate(d, frags)) for d in detectors}
    names = [d.name for d in detectors]
    print("Per-language accuracy, % (whole sentences / three-word fragments)")
    print(f"{'language':<24}" + "".join(f"{name:>14}" for name in names))
    for language in BLOOM_LANGUAGES:
        label = f"{language.english} ({language.code})"
        if expected_answer(language.code) == UNDETERMINED:
            label += " *"
        cells = "".join(
            f"{results[n][0].accuracy(language.code) * 100:>7.0f}/{results[n][1].accuracy(language.code) * 100:<6.0f}"
            for n in names
        )
        print(f"{label[:24]:<24}{cells}")
    known = sorted(detectable_by_any())
    unknown = sorted(language.code for language in BLOOM_LANGUAGES if language.code not in known)
    print("* no detector knows this language: the right answer is 'und' (not sure)")
    print("known/und: mean accuracy over languages some detector knows / no detector knows;")
    print("wrong: share of texts named as another language (worse than an honest 'und')")
    print()
    print(
        f"{'detector':<14}{'known sent':>11}{'known frag':>11}{'und sent':>10}{'und frag':>10}"
        f"{'all sent':>10}{'all frag':>10}{'wrong s/f':>11}{'us/sent':>9}{'us/frag':>9}"
        f"{'speed vs langdetect':>21}"
    )
    baseline = results[names[0]][0].micros
    for name in names:
        sentence_score, fragment_score = results[name]
        codes = [language.code for language in BLOOM_LANGUAGES]
        print(
            f"{name:<14}"
            f"{sentence_score.mean(known) * 100:>10.1f}%{fragment_score.mean(known) * 100:>10.1f}%"
            f"{sentence_score.mean(unknown) * 100:>9.1f}%{fragment_score.mean(unknown) * 100:>9.1f}%"
            f"{sentence_score.mean(codes) * 100:>9.1f}%{fragment_score.mean(codes) * 100:>9.1f}%"
            f"{sentence_score.wrong_share() * 100:>5.1f}/{fragment_score.wrong_share() * 100:<4.1f}%"
            f"{sentence_score.micros:>9.0f}{fragment_score.micros:>9.0f}"
            f"{baseline / sentence_score.micros:>20.1f}x"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--detectors-only", action="store_true")
    parser.add_argument("--guard-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.guard_only:
        detector_table(detectors_for_evaluation())
    if not args.detectors_only:
        from bench.language_guard_eval import guard_report

        asyncio.run(guard_report(DefaultDetector()))


if __name__ == "__main__":
    main()
