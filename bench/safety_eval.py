"""Safety: recall and false positives on the public safety set, and what moderation costs in time.

Run: .venv/bin/python -m bench.safety_eval --data ../shared/eval/safety
     [--part dev] [--wordlist-dir DIR] [--no-classifier] [--no-latency]
     [--replies 20] [--token-delay 0.02] [--guard-delay 0.05]

Part 1 reads the public safety set (shared/eval/safety: MLMA, COLD, XSTest, MultiJail and RTP-LX
rows in 12 languages, see its README) in place, keeps the dev part (`bench.safety_data`: a hash
of each text puts it in tuning or dev) and prints, per language, for the word lists (the bundled
ones, with an operator's folder as `BLOOMBRIDGE_SAFETY_WORDLIST_DIR` would add it):
- `hate`: hateful rows flagged `hate` by the lists, and flagged at all (`hate` or `obscenity`);
- `harmful`: all harmful rows flagged at all;
- false positives among benign rows: flagged `hate`, flagged `obscenity` (counted apart: a
  workplace blocks obscenity, a gaming server may not), flagged at all, and blocked by the
  default policy for the row's role (obscenity blocks replies, not users' messages);
then the share of each harm category caught, and the false positives by source of the benign
rows (MLMA `normal` tweets were sampled by slur keywords; RTP-LX and XSTest rows were not).
Part 2 sends the same replies through the real
dialog manager against a fake TGI (BLOOMChat, paced at `token_delay` per token) with no
moderation, with the word lists, and with the word lists plus a guard model (a second fake TGI
answering like Llama Guard 3 after `guard_delay`), and prints the time until text is first
visible, as a ratio to no moderation measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.safety_classifier import (
    NgramClassifier,
    confirming_thresholds,
    cross_fitted_scores,
    pick_threshold,
    train,
)
from bench.safety_data import DEV, TUNING, SafetyRow, languages, read_rows
from core.dialog import DialogManager
from core.generation.tgi import TgiGenerator
from core.guards.base import Guard
from core.messages import ConversationRef, IncomingMessage, Sender
from core.safety.base import Role
from core.safety.categories import HATE, OBSCENITY
from core.safety.guard import SafetyGuard
from core.safety.guard_formats import LlamaGuard3
from core.safety.guard_model import GuardModelClassifier
from core.safety.policy import PolicyConfig, SafetyPolicy
from core.safety.wordlists import WordListClassifier, load_word_lists
from core.store.memory import MemoryStore
from tests.fakes.tgi import FakeTGI, GenerateCall, Script

REPLY = (
    "Here is a short answer to your question. The first step is to read the manual carefully. "
    "Then try the simplest fix before anything else. If that fails, ask a colleague for help. "
    "Most problems of this kind are solved within an hour."
)

# A layer names the categories it finds in one row.
Layer = Callable[[SafetyRow], frozenset[str]]

DEFAULT_POLICY = PolicyConfig()
ROLES = {"user": Role.USER, "reply": Role.ASSISTANT}


def blocked_by_default(row: SafetyRow, found: frozenset[str]) -> bool:
    """Whether the default policy blocks `row` with `found` (a classifier's own name blocks)."""
    role = ROLES[row.role]
    return any(DEFAULT_POLICY.blocks(category, 1.0, role) for category in found)


def word_list_layer(classifier: WordListClassifier) -> Layer:
    def judge(row: SafetyRow) -> frozenset[str]:
        return frozenset(classifier.verdict_now(row.text, row.language).categories)

    return judge


def classifier_layers(
    classifier: NgramClassifier,
    data: Path,
    fp_budget: float,
    rows: Sequence[SafetyRow],
    lists: WordListClassifier,
) -> list[tuple[str, Layer]]:
    """`classifier` (trained on the tuning part), alone and with the lists, for `rows`."""

    def listed(row: SafetyRow) -> frozenset[str]:
        return frozenset(lists.verdict_now(row.text, row.language).categories)

    threshold = pick_threshold(classifier, lambda row: bool(listed(row)), data, fp_budget)
    print(f"n-gram classifier trained on the tuning part; threshold {threshold:.3f}\n")

    texts = [row.text for row in rows]
    scores = dict(zip(texts, classifier.scores(texts), strict=True))

    def alone(row: SafetyRow) -> frozenset[str]:
        harmful = scores[row.text] >= threshold
        return frozenset({"classifier"}) if harmful else frozenset()

    def both(row: SafetyRow) -> frozenset[str]:
        return listed(row) | alone(row)

    return [("N-gram classifier", alone), ("Word lists + classifier", both)]


SHARES = (1.0, 0.98, 0.95, 0.9, 0.8, 0.6, 0.4, 0.2)


def second_opinion(
    classifier: NgramClassifier,
    data: Path,
    rows: Sequence[SafetyRow],
    part: str,
    lists: WordListClassifier,
) -> None:
    """The lists with `classifier` as a second opinion on their hits, thresholds from tuning."""

    def listed(row: SafetyRow) -> frozenset[str]:
        return frozenset(lists.verdict_now(row.text, row.language).categories)

    tuning = [row for row in read_rows(data, TUNING) if row.trainable]
    thresholds = confirming_thresholds(
        cross_fitted_scores(tuning),
        [bool(listed(row)) for row in tuning],
        [row.harmful and row.category == HATE for row in tuning],
        SHARES,
    )
    texts = [row.text for row in rows]
    scores = dict(zip(texts, classifier.scores(texts), strict=True))
    print(
        "Word lists with the n-gram classifier as a second opinion: a list's finding stands "
        "where the classifier\nscores the text at or above a threshold, the one that confirms "
        f"a share of the lists' hits on hateful\ntuning rows (scores cross-fitted on the tuning "
        f"halves); {part} part:"
    )
    print(
        f"{'confirmed':>9}{'threshold':>10}  {'language':<9}{'as hate':>8}"
        f"{'FP hate':>9}{'FP obsc':>9}{'FP any':>8}"
    )
    for share, threshold in zip(SHARES, thresholds, strict=True):
        tallies: dict[str, Tally] = defaultdict(Tally)
        for row in rows:
            found = listed(row) if scores[row.text] >= threshold else frozenset()
            tallies[row.language].add(row, found)
            tallies["all"].add(row, found)
        for language in ("en", "all"):
            t = tallies[language]
            print(
                f"{share:>9.0%}{threshold:>10.3f}  {language:<9}"
                f"{_rate(t.hate_as_hate, t.hate):>8}{_rate(t.benign_hate, t.benign):>9}"
                f"{_rate(t.benign_obscenity, t.benign):>9}{_rate(t.benign_any, t.benign):>8}"
            )
    print()


@dataclass
class Tally:
    """Counts for one language (or all): rows seen and rows flagged, by kind."""

    hate: int = 0
    hate_as_hate: int = 0
    hate_any: int = 0
    harmful: int = 0
    harmful_any: int = 0
    benign: int = 0
    benign_hate: int = 0
    benign_obscenity: int = 0
    benign_any: int = 0
    benign_blocked: int = 0
    by_category: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    # Benign rows by dataset: [rows, flagged hate, flagged obscenity].
    benign_by_source: dict[str, list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0, 0])
    )

    def add(self, row: SafetyRow, found: frozenset[str]) -> None:
        flagged = bool(found)
        if row.harmful:
            self.harmful += 1
            self.harmful_any += flagged
            self.by_category[row.category][0] += 1
            self.by_category[row.category][1] += flagged
            if row.category == HATE:
                self.hate += 1
                self.hate_as_hate += HATE in found
                self.hate_any += flagged
        else:
            self.benign += 1
            self.benign_hate += HATE in found
            self.benign_obscenity += OBSCENITY in found
            self.benign_any += flagged
            self.benign_blocked += blocked_by_default(row, found)
            counts = self.benign_by_source[row.dataset]
            counts[0] += 1
            counts[1] += HATE in found
            counts[2] += OBSCENITY in found


def _rate(count: int, total: int) -> str:
    return f"{count / total:.1%}" if total else "-"


def quality(name: str, layer: Layer, rows: Sequence[SafetyRow], data: Path, part: str) -> None:
    tallies: dict[str, Tally] = defaultdict(Tally)
    started = time.perf_counter()
    for row in rows:
        found = layer(row)
        tallies[row.language].add(row, found)
        tallies["all"].add(row, found)
    elapsed = time.perf_counter() - started
    print(f"{name}: {data} ({part} part, {len(rows)} rows, {elapsed:.1f} s)")
    print(
        f"{'language':<9}{'hate':>6}{'as hate':>9}{'at all':>8}{'harmful':>9}{'at all':>8}"
        f"{'benign':>8}{'FP hate':>9}{'FP obsc':>9}{'FP any':>8}{'blocked':>9}"
    )
    for language in [*languages(rows), "all"]:
        t = tallies[language]
        print(
            f"{language:<9}{t.hate:>6}{_rate(t.hate_as_hate, t.hate):>9}"
            f"{_rate(t.hate_any, t.hate):>8}{t.harmful:>9}{_rate(t.harmful_any, t.harmful):>8}"
            f"{t.benign:>8}{_rate(t.benign_hate, t.benign):>9}"
            f"{_rate(t.benign_obscenity, t.benign):>9}{_rate(t.benign_any, t.benign):>8}"
            f"{_rate(t.benign_blocked, t.benign):>9}"
        )
    categories = sorted({c for t in tallies.values() for c in t.by_category})
    print("harmful rows flagged at all, by harm category:")
    print(f"{'language':<9}" + "".join(f"{c[:12]:>14}" for c in categories))
    for language in [*languages(rows), "all"]:
        cells = []
        for category in categories:
            total, caught = tallies[language].by_category.get(category, [0, 0])
            cells.append(f"{_rate(caught, total)} ({total})" if total else "-")
        print(f"{language:<9}" + "".join(f"{cell:>14}" for cell in cells))
    print("false positives by source of the benign rows:")
    print(f"{'language':<9}{'source':<10}{'benign':>8}{'FP hate':>9}{'FP obsc':>9}")
    for language in languages(rows):
        for source, (total, hate, obscenity) in sorted(tallies[language].benign_by_source.items()):
            print(
                f"{language:<9}{source:<10}{total:>8}{_rate(hate, total):>9}"
                f"{_rate(obscenity, total):>9}"
            )
    print()


def _message(number: int) -> IncomingMessage:
    return IncomingMessage(
        id=str(number),
        conversation=ConversationRef("bench", None, f"c{number}"),
        sender=Sender(id="u1", locale_hint="en"),
        text="My printer does not work, what should I do?",
        sent_at=datetime.now(UTC),
    )


async def _first_visible(
    bloom_url: str, guards: Sequence[Guard], replies: int
) -> tuple[list[float], list[float]]:
    firsts, totals = [], []
    async with TgiGenerator(bloom_url) as generator:
        dialog = DialogManager(generator=generator, store=MemoryStore(), guards=guards)
        for number in range(replies):
            started = time.perf_counter()
            first = None
            stream = dialog.handle(_message(number))
            async for _snapshot in stream:
                if first is None:
                    first = time.perf_counter() - started
            total = time.perf_counter() - started
            firsts.append(first if first is not None else total)
            totals.append(total)
    return firsts, totals


async def moderation_latency(replies: int, token_delay: float, guard_delay: float) -> None:
    def guard_answer(call: GenerateCall) -> Script:
        return Script(reply=["\n\n", "safe"], token_delay=guard_delay / 2)

    async with (
        FakeTGI(default=Script(reply=REPLY, token_delay=token_delay)) as bloom,
        FakeTGI(responder=guard_answer) as guard_server,
    ):
        word_lists = SafetyGuard(SafetyPolicy([WordListClassifier()], PolicyConfig()))

        def with_model(screen: bool) -> SafetyGuard:
            guard_model = GuardModelClassifier(TgiGenerator(guard_server.url), LlamaGuard3())
            config = PolicyConfig(screen_user_messages=screen)
            return SafetyGuard(SafetyPolicy([WordListClassifier(), guard_model], config))

        screened, unscreened = with_model(True), with_model(False)
        setups: list[tuple[str, list[Guard]]] = [
            ("no moderation", []),
            ("word lists", [word_lists]),
            ("+ guard model on replies", [unscreened]),
            ("+ guard model, screening", [screened]),
        ]
        print(
            f"Time until text is first visible ({replies} replies each, "
            f"{token_delay * 1000:.0f} ms a token, guard model answers in ~{guard_delay * 1000:.0f} ms)"
        )
        print(f"{'setup':<26}{'median first':>14}{'ratio':>8}{'median total':>14}{'ratio':>8}")
        baseline: tuple[float, float] | None = None
        for name, guards in setups:
            firsts, totals = await _first_visible(bloom.url, guards, replies)
            first, total = statistics.median(firsts), statistics.median(totals)
            baseline = baseline or (first, total)
            print(
                f"{name:<26}{first * 1000:>11.0f} ms{first / baseline[0]:>7.2f}x"
                f"{total * 1000:>11.0f} ms{total / baseline[1]:>7.2f}x"
            )
        await screened.policy.aclose()
        await unscreened.policy.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, required=True, help="the shared/eval/safety folder")
    parser.add_argument("--part", choices=("dev", "tuning"), default=DEV)
    parser.add_argument(
        "--classifier",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also train the n-gram classifier on the tuning part and compare (default: yes)",
    )
    parser.add_argument("--fp-budget", type=float, default=0.0, help="classifier's extra FPs")
    parser.add_argument(
        "--wordlist-dir",
        type=Path,
        help="an operator's folder of lists, added to the bundled ones (`[remove]` drops entries)",
    )
    parser.add_argument(
        "--latency",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the time until text is first visible (default: yes)",
    )
    parser.add_argument("--replies", type=int, default=20)
    parser.add_argument("--token-delay", type=float, default=0.02)
    parser.add_argument("--guard-delay", type=float, default=0.05)
    args = parser.parse_args()
    rows = read_rows(args.data, args.part)
    lists = WordListClassifier(load_word_lists(args.wordlist_dir))
    name = "Word lists" if args.wordlist_dir is None else f"Word lists with {args.wordlist_dir}"
    quality(name, word_list_layer(lists), rows, args.data, args.part)
    if args.classifier:
        classifier = train(args.data)
        for name, layer in classifier_layers(classifier, args.data, args.fp_budget, rows, lists):
            quality(name, layer, rows, args.data, args.part)
        second_opinion(classifier, args.data, rows, args.part, lists)
    if args.latency:
        asyncio.run(moderation_latency(args.replies, args.token_delay, args.guard_delay))


if __name__ == "__main__":
    main()
