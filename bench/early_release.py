"""How often the language guard's early release shows words of the wrong language before a cut.

Run: .venv/bin/python -m bench.early_release [--data DIR] [--targets en fr ...]

Two-language replies are built from the sentences of `DIR/langid/` (default ../shared/eval):
a reply that switches (three sentences in the conversation's language, then two in another)
and a reply that starts in the wrong language (two sentences in another, then three in the
conversation's); a sentence without a final mark gets one, as a model writes them. Each is streamed to a fresh language guard in 4-character tokens, the
conversation's language as the target, exactly as the dialog manager calls it. A reply counts
as leaking when any visible character of the other language was cleared before the guard cut
it (or by its end, when it was never cut). Goal: no leak in at least 99 % of replies.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.langid_data import DEFAULT_DATA, langid_sentences
from bench.language_guard_eval import NoModel
from bots.language_setup import load_language_models, shared_detector
from bots.settings import Settings
from core.generation.base import GenerationParams
from core.guards.base import GuardContext, VerdictKind
from core.language.guard import LanguageGuard
from core.language.languages import BLOOM_LANGUAGES, is_close
from core.messages import ConversationRef, IncomingMessage, Sender

TOKEN_CHARS = 4
UNSPACED = frozenset({"zh", "zh-hant"})
REPLIES_PER_PAIR = 2


_ENDS = ".!?…;:。！？।॥؟۔።\"'”’»)"  # noqa: RUF001
_FULL_STOPS = {"zh": "。", "zh-hant": "。", "hi": "।", "mr": "।", "ne": "।"}


def as_replied(code: str, sentence: str) -> str:
    """The sentence as a model would write it: with a final mark (NCHLT lines have none)."""
    return sentence if sentence.endswith(tuple(_ENDS)) else sentence + _FULL_STOPS.get(code, ".")


def _join(code: str, parts: Sequence[str]) -> str:
    return ("" if code in UNSPACED else " ").join(parts)


def _context(language: str) -> GuardContext:
    message = IncomingMessage(
        id="bench",
        conversation=ConversationRef("bench", None, "bench"),
        sender=Sender("bench"),
        text="Tell me something.",
        sent_at=datetime.now(UTC),
    )
    return GuardContext(message, language, (), NoModel(), GenerationParams())


async def shown_before_cut(guard: LanguageGuard, target: str, text: str) -> tuple[int, bool]:
    """The most characters cleared before the guard intervened, and whether it did."""
    session = guard.begin(_context(target))
    shown = 0
    for end in range(TOKEN_CHARS, len(text) + TOKEN_CHARS, TOKEN_CHARS):
        final = end >= len(text)
        verdict = await session.check(text[:end], final=final)
        if verdict.kind is not VerdictKind.PASS:
            return shown, True
        cleared = min(end, len(text)) if verdict.cleared is None else verdict.cleared
        shown = max(shown, cleared)
    return shown, False


def _visible(text: str) -> int:
    return sum(not char.isspace() for char in text)


async def main(data: Path, targets: Sequence[str]) -> None:
    settings = Settings(tgi_urls=["http://127.0.0.1:1"])
    await load_language_models(settings)
    detector = shared_detector(settings.language_detector)
    early = LanguageGuard(detector, translate=False)
    held = LanguageGuard(detector, translate=False, early_release=False)
    known = detector.languages
    codes = [language.code for language in BLOOM_LANGUAGES if language.code in known]
    sentences = {
        code: [as_replied(code, s) for s in langid_sentences(data, code)[:60]] for code in codes
    }
    codes = [code for code in codes if len(sentences[code]) >= 10]
    leaks: dict[tuple[str, str], list[bool]] = defaultdict(list)
    leaking_pairs: list[str] = []
    started = time.perf_counter()
    for target in [code for code in codes if not targets or code in targets]:
        for offset, other in enumerate(codes):
            if is_close(target, other):
                continue
            for number in range(REPLIES_PER_PAIR):
                pick = (offset * REPLIES_PER_PAIR + number) * 5
                own = [sentences[target][(pick + i) % len(sentences[target])] for i in range(3)]
                foreign = [sentences[other][(pick + i) % len(sentences[other])] for i in range(2)]
                head = _join(target, own)
                start = _join(other, foreign)
                # Switching mid-reply: nothing after the switch may be shown. Starting in the
                # wrong language: none of its first part may be shown.
                cases = {
                    "switch mid-reply": (_join(target, [head, start]), len(head), None),
                    "wrong language first": (_join(target, [start, head]), 0, len(start)),
                }
                for kind, (text, low, high) in cases.items():
                    for label, guard in (("early", early), ("held", held)):
                        shown, _ = await shown_before_cut(guard, target, text)
                        wrong = (
                            text[low : max(shown, low)]
                            if high is None
                            else text[: min(shown, high)]
                        )
                        leaks[(label, kind)].append(_visible(wrong) > 0)
                    if leaks[("early", kind)][-1] and not leaks[("held", kind)][-1]:
                        leaking_pairs.append(f"{target}>{other}")
    seconds = time.perf_counter() - started
    print("Language guard: share of two-language replies that show no wrong-language word")
    print("(early: sentences shown once their first words fit; held: shown once judged)")
    for label in ("early", "held"):
        every: list[bool] = []
        for kind in ("switch mid-reply", "wrong language first"):
            values = leaks[(label, kind)]
            every += values
            share = values.count(False) / len(values) * 100
            print(f"  {label:<6}{kind:<22}: {share:6.2f}% of {len(values)} replies")
        print(f"  {label:<6}{'all':<22}: {every.count(False) / len(every) * 100:6.2f}%")
    extra = sum(
        early_leak and not held_leak
        for kind in ("switch mid-reply", "wrong language first")
        for early_leak, held_leak in zip(leaks[("early", kind)], leaks[("held", kind)], strict=True)
    )
    replies = sum(
        len(leaks[("early", kind)]) for kind in ("switch mid-reply", "wrong language first")
    )
    print(
        f"  replies the early release alone makes show wrong-language words: {extra} of {replies}"
        f" ({(replies - extra) / replies * 100:.2f}% show none because of it)"
    )
    worst: dict[str, int] = defaultdict(int)
    for pair in leaking_pairs:
        worst[pair] += 1
    listed = ", ".join(f"{pair} {n}" for pair, n in sorted(worst.items(), key=lambda i: -i[1]))
    print(f"  leaking pairs: {listed[:600] or 'none'}")
    print(f"  ({seconds:.0f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--targets", nargs="*", default=[])
    arguments = parser.parse_args()
    asyncio.run(main(arguments.data, arguments.targets))
