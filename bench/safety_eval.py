"""Safety: recall and false-positive rate of the word-list layer, and what moderation costs in time.

Run: .venv/bin/python -m bench.safety_eval [--replies 20] [--token-delay 0.02] [--guard-delay 0.05]

Part 1 reads tests/data/safety/eval.tsv (labelled, written for this project) and counts every
sentence of tests/data/language/sentences.tsv as benign. Part 2 sends the same replies through
the real dialog manager against a fake TGI (BLOOMChat, paced at `token_delay` per token) with no
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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.dialog import DialogManager
from core.generation.tgi import TgiGenerator
from core.guards.base import Guard
from core.messages import ConversationRef, IncomingMessage, Sender
from core.safety.guard import SafetyGuard
from core.safety.guard_formats import LlamaGuard3
from core.safety.guard_model import GuardModelClassifier
from core.safety.policy import PolicyConfig, SafetyPolicy
from core.safety.wordlists import WordListClassifier
from core.store.memory import MemoryStore
from tests.fakes.tgi import FakeTGI, GenerateCall, Script

DATA = Path(__file__).parents[1] / "tests" / "data"
REPLY = (
    "Here is a short answer to your question. The first step is to read the manual carefully. "
    "Then try the simplest fix before anything else. If that fails, ask a colleague for help. "
    "Most problems of this kind are solved within an hour."
)


@dataclass(frozen=True)
class Example:
    language: str
    harmful: bool
    kind: str
    text: str


def load_examples() -> list[Example]:
    examples = []
    for line in (DATA / "safety" / "eval.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        language, label, kind, text = line.split("\t", 3)
        examples.append(Example(language, label == "harmful", kind, text))
    for line in (DATA / "language" / "sentences.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        language, text = line.split("\t", 1)
        examples.append(Example(language, False, "everyday", text))
    return examples


def word_list_quality(examples: Sequence[Example]) -> None:
    classifier = WordListClassifier()
    started = time.perf_counter()
    flags = [classifier.verdict_now(e.text, e.language).flagged for e in examples]
    elapsed = time.perf_counter() - started
    groups: dict[str, dict[bool, list[bool]]] = defaultdict(lambda: {True: [], False: []})
    for example, flagged in zip(examples, flags, strict=True):
        groups[example.language][example.harmful].append(flagged)
        groups[f"[{example.kind}]"][example.harmful].append(flagged)
        groups["all"][example.harmful].append(flagged)
    print("Word-list layer: recall on harmful texts, false-positive rate on benign ones")
    print(f"{'language':<16}{'harmful':>8}{'recall':>8}{'benign':>8}{'FP rate':>9}")
    languages = sorted(k for k in groups if k != "all" and not k.startswith("["))
    kinds = sorted(k for k in groups if k.startswith("["))
    for name in [*languages, *kinds, "all"]:
        harmful, benign = groups[name][True], groups[name][False]
        recall = f"{sum(harmful) / len(harmful):.0%}" if harmful else "-"
        fp_rate = f"{sum(benign) / len(benign):.1%}" if benign else "-"
        print(f"{name:<16}{len(harmful):>8}{recall:>8}{len(benign):>8}{fp_rate:>9}")
    print(f"({len(examples)} texts classified in {elapsed * 1000:.1f} ms)\n")


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
    parser.add_argument("--replies", type=int, default=20)
    parser.add_argument("--token-delay", type=float, default=0.02)
    parser.add_argument("--guard-delay", type=float, default=0.05)
    args = parser.parse_args()
    word_list_quality(load_examples())
    asyncio.run(moderation_latency(args.replies, args.token_delay, args.guard_delay))


if __name__ == "__main__":
    main()
