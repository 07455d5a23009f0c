"""Language identification on the dev part of the public data, per language and detector.

Run: .venv/bin/python -m bench.language_eval --data ../shared/eval/langid [--curve] [--guard]

For the default detector and each library alone (CLD2, py3langid, lingua, langdetect), prints
per language the share of sentences and of short texts named right and named wrong (an honest
"und" is neither), then a summary with the speed per sentence (`--best-of N`: each text's
fastest of N timings) and the load time. The right answer for Twi is "ak", its reply language.
`--curve` first prints the accuracy/coverage curve by naming threshold and the threshold the
issue's criterion chooses from it (the default's threshold, `bench/language_threshold.py`);
`--guard` adds the streaming guard figures.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.language_data import TUNING_SHARE, LabelledText, load_part
from bench.language_threshold import CRITERION, RIGHT_TARGET, Answer, Point, choose
from bench.language_threshold import curve as threshold_curve
from core.language.default_detector import DefaultDetector
from core.language.detector import LanguageDetector
from core.language.languages import BLOOM_LANGUAGES, UNDETERMINED, reply_language
from core.language.library_detectors import (
    Cld2Detector,
    LangdetectDetector,
    LinguaDetector,
    Py3langidDetector,
)
from core.language.scripts import SINGLE_LANGUAGE_SCRIPTS

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "langid"
KINDS = ("sentence", "short")
# Every language should be at least this often right on dev sentences (issue).
FLOOR = 0.90


@dataclass
class Tally:
    """Right and wrong answers per language and kind, and the time of each call."""

    right: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    wrong: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    total: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    load_seconds: float = 0.0

    def rate(self, table: dict[tuple[str, str], int], code: str, kind: str) -> float | None:
        count = self.total[(code, kind)]
        return table[(code, kind)] / count if count else None

    def mean_rate(self, table: dict[tuple[str, str], int], kind: str) -> float:
        rates = [self.rate(table, language.code, kind) for language in BLOOM_LANGUAGES]
        return statistics.fmean(rate for rate in rates if rate is not None)

    def languages_at(self, kind: str, level: float) -> tuple[int, int]:
        rates = [self.rate(self.right, language.code, kind) for language in BLOOM_LANGUAGES]
        measured = [rate for rate in rates if rate is not None]
        return sum(rate >= level for rate in measured), len(measured)


def evaluate(
    detector: LanguageDetector,
    items: Sequence[LabelledText],
    load_seconds: float,
    best_of: int = 1,
) -> Tally:
    """Run `detector` over every item, timing each call; with `best_of` above 1, each item's
    fastest of that many passes is its time (other processes on a shared machine only ever
    add to a call's time, so the fastest is the closest to its own cost)."""
    tally = Tally(load_seconds=load_seconds)
    for item in items[:50]:
        detector.detect(item.text)
    fastest = [math.inf] * len(items)
    for _ in range(best_of - 1):
        for position, item in enumerate(items):
            started = time.perf_counter()
            detector.detect(item.text)
            fastest[position] = min(fastest[position], time.perf_counter() - started)
    for position, item in enumerate(items):
        started = time.perf_counter()
        answer = detector.detect(item.text).language
        elapsed = time.perf_counter() - started
        tally.seconds[item.kind].append(min(fastest[position], elapsed))
        expected = reply_language(item.language)
        key = (item.language, item.kind)
        tally.total[key] += 1
        tally.right[key] += int(answer == expected)
        tally.wrong[key] += int(answer not in (expected, UNDETERMINED))
    return tally


def _percent(value: float | None) -> str:
    return "    -" if value is None else f"{value * 100:5.1f}"


def language_table(name: str, tally: Tally) -> None:
    """Per language: sentences right/wrong and short texts right/wrong, in %."""
    print(f"{name}: % right / % wrong per language (dev part)")
    print(f"{'language':<26}{'lines':>7}   {'sentences':^13}   {'short texts':^13}")
    for language in BLOOM_LANGUAGES:
        code = language.code
        lines = sum(tally.total[(code, kind)] for kind in KINDS)
        cells = "   ".join(
            f"{_percent(tally.rate(tally.right, code, kind))} {_percent(tally.rate(tally.wrong, code, kind))}"
            for kind in KINDS
        )
        low = tally.rate(tally.right, code, "sentence")
        flag = " <" if low is not None and low < RIGHT_TARGET else ""
        print(f"{language.english + ' (' + code + ')':<26}{lines:>7}   {cells}{flag}")
    print("< below 99.5 % right on sentences; - no dev lines of that kind")
    print()


def summary_table(results: dict[str, Tally]) -> None:
    """One line per detector: languages at target, mean rates, speed, load time."""
    print(
        f"{'detector':<12}{'>=99.5% sent':>14}{'>=90% sent':>12}{'right s/sh %':>15}"
        f"{'wrong s/sh %':>15}{'median us/sent':>16}{'mean us/sent':>14}{'load s':>8}"
    )
    baseline = statistics.median(results["default"].seconds["sentence"])
    for name, tally in results.items():
        at_target, measured = tally.languages_at("sentence", RIGHT_TARGET)
        at_floor, _ = tally.languages_at("sentence", FLOOR)
        median = statistics.median(tally.seconds["sentence"])
        print(
            f"{name:<12}{f'{at_target} of {measured}':>14}{f'{at_floor} of {measured}':>12}"
            f"{tally.mean_rate(tally.right, 'sentence') * 100:>8.1f}/{tally.mean_rate(tally.right, 'short') * 100:<6.1f}"
            f"{tally.mean_rate(tally.wrong, 'sentence') * 100:>8.2f}/{tally.mean_rate(tally.wrong, 'short') * 100:<6.2f}"
            f"{median * 1e6:>10.0f} ({median / baseline:4.1f}x)"
            f"{statistics.fmean(tally.seconds['sentence']) * 1e6:>12.0f}"
            f"{tally.load_seconds:>8.1f}"
        )
    print(
        "rates are averaged over the languages that have dev lines of that kind; "
        "speed ratios are against the default detector"
    )
    # Timings depend on what else runs: say how busy the machine was.
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} at the end of the run")


# The rows of the curve printed (the criterion looks at every step of 0.01).
CURVE_SHOWN = (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95)


def curve(items: Sequence[LabelledText]) -> Point:
    """The default detector's accuracy/coverage curve: per naming threshold, the languages at
    99.5 % right on sentences and the mean right/wrong rates, then the threshold the issue's
    criterion chooses from it (`bench/language_threshold.py`) and the one the detector ships."""
    detector = DefaultDetector(min_confidence=0.0)
    detector.load()
    answers = []
    for item in items:
        detection = detector.detect(item.text)
        # The script alone names these: no threshold applies.
        by_script = detection.script in SINGLE_LANGUAGE_SCRIPTS or detection.script == "Han"
        answers.append(
            Answer(
                item.language,
                reply_language(item.language),
                item.kind,
                detection.language,
                1.0 if by_script else detection.confidence,
            )
        )
    points = threshold_curve(answers)
    chosen = choose(points)
    shipped = DefaultDetector().min_confidence
    print("default detector, accuracy/coverage by naming threshold (dev part)")
    print(f"{'threshold':>9}{'>=99.5% sent':>14}{'right s/sh %':>15}{'wrong s/sh %':>15}")
    for found in points:
        if found is chosen or found.threshold in CURVE_SHOWN or found.threshold == shipped:
            marks = (" chosen" if found is chosen else "") + (
                " shipped" if found.threshold == shipped else ""
            )
            print(
                f"{found.threshold:>9.2f}{f'{found.at_target} of {found.measured}':>14}"
                f"{found.right_sentences * 100:>8.1f}/{found.right_short * 100:<6.1f}"
                f"{found.wrong_sentences * 100:>8.2f}/{found.wrong_short * 100:<6.2f}"
                f"{'' if found.allowed else ' over the wrong limits'}{marks}"
            )
    print(CRITERION)
    at_target = [
        found.threshold for found in points if found.allowed and found.at_target == chosen.at_target
    ]
    print(
        f"thresholds reaching {chosen.at_target} languages within the limits: "
        f"{min(at_target):.2f} to {max(at_target):.2f}; chosen {chosen.threshold:.2f}, "
        f"shipped {shipped:.2f}"
    )
    print()
    return chosen


def _loaded(make: Callable[[], LanguageDetector]) -> tuple[LanguageDetector, float]:
    started = time.perf_counter()
    detector = make()
    load = getattr(detector, "load", None)
    if callable(load):
        load()
    detector.detect("warm up the model")
    return detector, time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared/eval/langid folder")
    parser.add_argument("--default-only", action="store_true", help="skip the libraries alone")
    parser.add_argument("--guard", action="store_true", help="also run the streaming guard figures")
    parser.add_argument(
        "--best-of",
        type=int,
        default=1,
        metavar="N",
        help="time each text N times and keep its fastest (steadier on a shared machine)",
    )
    parser.add_argument(
        "--curve", action="store_true", help="print the accuracy/coverage curve by threshold"
    )
    args = parser.parse_args(argv)
    dev = load_part(args.data, "dev")
    print(
        f"Data: {args.data} (shared/eval/langid, public openly licensed sources), dev part: "
        f"{len(dev)} lines (a fixed hash keeps {TUNING_SHARE:.0%} of each language for tuning)"
    )
    print()
    if args.curve:
        curve(dev)
    makers: dict[str, Callable[[], LanguageDetector]] = {"default": DefaultDetector}
    if not args.default_only:
        makers |= {
            "cld2": Cld2Detector,
            "py3langid": Py3langidDetector,
            "lingua": LinguaDetector,
            "langdetect": LangdetectDetector,
        }
    results: dict[str, Tally] = {}
    for name, make in makers.items():
        detector, load_seconds = _loaded(make)
        results[name] = evaluate(detector, dev, load_seconds, args.best_of)
        language_table(name, results[name])
    summary_table(results)
    if args.guard:
        from bench.language_guard_eval import guard_report

        asyncio.run(guard_report(DefaultDetector(), dev))


if __name__ == "__main__":
    main()
