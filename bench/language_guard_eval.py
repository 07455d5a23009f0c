"""The streaming language guard on synthetic replies built from the dev sentences.

Run: .venv/bin/python -m bench.language_guard_eval --data ../shared/eval/langid

Two-language replies (three sentences in the target language, then two in another) measure the
share of switches caught and how many characters after the switch were shown before the guard
acted; single-language replies with code, links, names and numbers mixed in measure how often a
correct reply is wrongly cut. Tokens are simulated as 4-character steps. A reply's sentences end
with a terminator, so dev lines without one (headlines, lines cut from stories at a colon) get
the full stop of their script; without it the guard reads the last target line and the first
foreign one as one sentence and cuts from the start of that sentence.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.language_data import LabelledText, load_part
from core.errors import ModelError
from core.generation.base import GenerationParams, ModelInfo, Token
from core.guards.base import GuardContext, VerdictKind
from core.language.detector import LanguageDetector
from core.language.guard import LanguageGuard
from core.language.languages import BLOOM_LANGUAGES, detectable_by_any, is_close
from core.messages import ConversationRef, IncomingMessage, Sender

TOKEN_CHARS = 4
UNSPACED = frozenset({"zh", "zh-hant"})
# The full stop each script writes; Latin's "." for the rest.
FULL_STOPS = {"zh": "。", "zh-hant": "。", "hi": "।", "mr": "।", "ne": "।", "bn": "।", "as": "।"}
FULL_STOPS |= {"ur": "۔", "pa": "।", "or": "।"}  # noqa: RUF001
_TERMINATORS = ".!?…।॥؟۔。！？"  # noqa: RUF001
_CLOSERS = "\"'”’»)]"  # noqa: RUF001


class NoModel:
    """A generator for contexts in which the guard must not call the model."""

    async def stream(self, prompt: str, params: GenerationParams) -> AsyncGenerator[Token, None]:
        raise ModelError("the benchmark has no model")
        yield Token("")  # makes this an async generator, as the protocol expects

    async def info(self) -> ModelInfo:
        return ModelInfo("none", 1024, 2048)

    async def tokenize(self, text: str) -> Sequence[int] | None:
        return None

    async def aclose(self) -> None:
        return None


@dataclass(frozen=True)
class Run:
    """What the guard did with one streamed reply."""

    intervened: bool
    at: int
    shown: int  # the most characters the user could see at any point


def _context(language: str) -> GuardContext:
    message = IncomingMessage(
        id="bench",
        conversation=ConversationRef("bench", None, "bench"),
        sender=Sender("bench"),
        text="Tell me something.",
        sent_at=datetime.now(UTC),
    )
    return GuardContext(message, language, (), NoModel(), GenerationParams())


async def stream_through(guard: LanguageGuard, language: str, text: str) -> Run:
    """Feed `text` to a fresh session token by token, as the dialog manager does."""
    session = guard.begin(_context(language))
    shown = 0
    for end in range(TOKEN_CHARS, len(text) + TOKEN_CHARS, TOKEN_CHARS):
        final = end >= len(text)
        verdict = await session.check(text[:end], final=final)
        if verdict.kind is not VerdictKind.PASS:
            return Run(True, verdict.at, shown)
        cleared = min(end, len(text)) if verdict.cleared is None else verdict.cleared
        shown = max(shown, cleared)
    return Run(False, len(text), shown)


def _join(code: str, parts: Sequence[str]) -> str:
    return ("" if code in UNSPACED else " ").join(parts)


def _visible_chars(text: str) -> int:
    return sum(1 for char in text if not char.isspace())


def single_language_reply(code: str, sentences: Sequence[str]) -> str:
    """Four sentences with a link, a code block, inline code, names and numbers mixed in."""
    space = "" if code in UNSPACED else " "
    return (
        f"{sentences[0]}{space}https://github.com/example/project/blob/main/README.md"
        f"{space}{sentences[1]}\n\n```python\nfor item in load_items('data.json'):\n"
        f"    print(item.name, item.size)\n```\n\n{sentences[2]}{space}`pip install requests==2.32`"
        f"{space}(Barack Obama, Microsoft Office 365, 3.14){space}{sentences[3]}"
    )


def terminated(code: str, text: str) -> str:
    """`text` ending with a sentence terminator: its script's full stop added when it has none."""
    text = text.rstrip()
    if text.rstrip(_CLOSERS).endswith(tuple(_TERMINATORS)):
        return text
    return text.rstrip(":;,-–— ") + FULL_STOPS.get(code, ".")  # noqa: RUF001


def dev_sentences(items: Sequence[LabelledText]) -> dict[str, list[str]]:
    """Dev sentences of 40 to 200 characters per language (the length of a reply's sentences)."""
    by_language: dict[str, list[str]] = defaultdict(list)
    for item in items:
        if item.kind == "sentence" and 40 <= len(item.text) <= 200:
            by_language[item.language].append(terminated(item.language, item.text))
    return by_language


async def guard_report(detector: LanguageDetector, dev: Sequence[LabelledText]) -> None:
    """Print the guard figures: switches caught, characters leaked, single-language cuts."""
    by_language = dev_sentences(dev)
    guard = LanguageGuard(detector, translate=False)
    # Targets some library knows, against those only the n-gram model knows.
    known = detectable_by_any()
    codes = [language.code for language in BLOOM_LANGUAGES if len(by_language[language.code]) >= 12]

    caught: dict[str, list[bool]] = defaultdict(list)
    leaked: list[int] = []
    missed_by_pair: list[str] = []
    early: list[str] = []
    started = time.perf_counter()
    checks = 0
    for index, target in enumerate(codes):
        for offset, other in enumerate(codes):
            if is_close(target, other):
                continue
            first = by_language[target][(index + offset) % 8 : (index + offset) % 8 + 3]
            second = by_language[other][(index * 3 + offset) % 9 : (index * 3 + offset) % 9 + 2]
            head = _join(target, first)
            text = _join(target, [head, _join(other, second)])
            switch = len(head)
            run = await stream_through(guard, target, text)
            checks += len(text) // TOKEN_CHARS + 1
            group = "target a library knows" if target in known else "target only the model knows"
            hit = run.intervened and switch <= run.at <= switch + 1
            if run.intervened and run.at < switch:
                early.append(f"{target}>{other}")
            caught[group].append(hit)
            if hit:
                leaked.append(_visible_chars(text[switch : max(run.shown, switch)]))
            else:
                missed_by_pair.append(f"{target}>{other}")
    switch_seconds = time.perf_counter() - started

    wrongly_cut: list[str] = []
    singles = 0
    for code in codes:
        for start in (0, 4):
            reply = single_language_reply(code, by_language[code][start : start + 4])
            run = await stream_through(guard, code, reply)
            singles += 1
            if run.intervened:
                wrongly_cut.append(code)

    print()
    print(
        f"Streaming language guard (default detector, 4-character tokens; dev sentences of "
        f"{len(codes)} languages with at least 12 of 40-200 characters)"
    )
    for group, hits in sorted(caught.items()):
        print(
            f"  switches caught, {group:<25}: {sum(hits) / len(hits) * 100:5.1f}% "
            f"of {len(hits)} two-language replies"
        )
    every = [hit for hits in caught.values() for hit in hits]
    print(f"  switches caught, all                      : {sum(every) / len(every) * 100:5.1f}%")
    print(
        f"  characters shown after a switch before it was caught: mean "
        f"{statistics.fmean(leaked) if leaked else 0:.2f}, max {max(leaked, default=0)} "
        f"(over {len(leaked)} caught switches)"
    )
    print(
        f"  single-language replies wrongly cut (code, links, names, numbers mixed in): "
        f"{len(wrongly_cut) / singles * 100:.1f}% of {singles}"
        + (f" ({', '.join(sorted(set(wrongly_cut)))})" if wrongly_cut else "")
    )
    print(
        f"  two-language replies cut before the switch (a wrong cut): {len(early)}"
        + (f" ({', '.join(early[:10])})" if early else "")
    )
    print(f"  guard cost: {switch_seconds / checks * 1e6:.0f} us per token checked")
    missed_targets: dict[str, int] = defaultdict(int)
    for pair in missed_by_pair:
        missed_targets[pair.split(">")[0]] += 1
    worst = sorted(missed_targets.items(), key=lambda item: -item[1])[:8]
    print("  most missed switches by target: " + ", ".join(f"{c} {n}" for c, n in worst))


def main(argv: Sequence[str] | None = None) -> None:
    import argparse
    import asyncio
    from pathlib import Path

    from bench.language_eval import DEFAULT_DATA
    from core.language.default_detector import DefaultDetector

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared/eval/langid folder")
    args = parser.parse_args(argv)
    detector = DefaultDetector()
    detector.load()
    asyncio.run(guard_report(detector, load_part(args.data, "dev")))


if __name__ == "__main__":
    main()
