"""Guard cost per streamed token, by guard and reply length: does checking stay linear?

Run: .venv/bin/python -m bench.guards [--lengths 200 500 2000] [--profile 15]
A synthetic reply streams from an in-process model with no delay through the dialog manager's
per-token guard loop (`GuardedGeneration`), with each default guard alone (as `bots.wiring`
builds them from default settings) and with all of them. The baseline is the same loop with no
guard, measured in the same run; figures are CPU time, so other processes on the machine
disturb them less. Microseconds per token that grow with the reply length mean a guard
re-reads the whole reply on every token.

Two ways of reading the stream are measured: as the dialog reads it (`DialogConfig`'s
read-ahead: at zero model delay the tokens that arrived while the guards judged are judged as
one step), and token by token (one check per token: each check's own cost, the worst case,
which is how a slow model's tokens are judged).

Then what the repetition guard keeps per reply after each length: the hashes it holds and the
bytes of its session's objects (they must stop growing once its window of words is full).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import random
import statistics
import sys
import time
from collections.abc import AsyncGenerator, Sequence
from datetime import UTC, datetime
from enum import Enum
from types import BuiltinMethodType, FunctionType, MethodType, ModuleType

from bots.language_setup import load_language_models
from bots.settings import Settings
from bots.wiring import build_guards
from core.config import DialogConfig
from core.generation.base import GenerationParams, ModelInfo, Token
from core.guarded_generation import GuardedGeneration
from core.guards.base import Guard, GuardContext
from core.guards.repetition import RepetitionGuard, RepetitionSession
from core.messages import ConversationRef, FinishReason, IncomingMessage, Sender
from core.metrics import Metrics
from core.prompt import Prompt, PromptBuilder
from tests.fakes.tgi import dead_url

PARAMS = GenerationParams(max_new_tokens=4000)
METRICS = Metrics()
REPEATS = 3
GOAL_US = 20.0

# Word pools for sentences "<subject> <verb> <object> <place> <time>.", drawn at random so no
# sentence or long phrase repeats (a repeat would, rightly, make the repetition guard cut).
PHRASE = 8
VOCABULARY = {
    "en": (
        [
            "The old baker",
            "A young student",
            "Our neighbour",
            "The tired doctor",
            "My sister",
            "The quiet teacher",
            "A local farmer",
            "The new mayor",
            "His cousin",
            "The fisherman",
        ],
        [
            "carries",
            "paints",
            "repairs",
            "sells",
            "describes",
            "finds",
            "cleans",
            "opens",
            "studies",
            "remembers",
        ],
        [
            "a wooden chair",
            "the blue door",
            "fresh bread",
            "an old map",
            "the long letter",
            "a small boat",
            "the garden gate",
            "warm soup",
            "a heavy book",
            "the market stall",
        ],
        [
            "near the river",
            "in the village",
            "behind the school",
            "at the station",
            "beside the church",
            "on the hill",
            "in the kitchen",
            "at the harbour",
            "under the bridge",
            "across the square",
        ],
        [
            "every morning",
            "after lunch",
            "before dawn",
            "on Sundays",
            "in winter",
            "during the storm",
            "late at night",
            "each spring",
            "at noon",
            "in the evening",
        ],
    ),
    "fr": (
        [
            "Le vieux boulanger",
            "Une jeune étudiante",
            "Notre voisin",
            "Le médecin fatigué",
            "Ma soeur",
            "Le professeur calme",
            "Un fermier du coin",
            "Le nouveau maire",
            "Son cousin",
            "Le pêcheur",
        ],
        [
            "porte",
            "peint",
            "répare",
            "vend",
            "décrit",
            "trouve",
            "nettoie",
            "ouvre",
            "étudie",
            "se rappelle",
        ],
        [
            "une chaise en bois",
            "la porte bleue",
            "du pain frais",
            "une vieille carte",
            "la longue lettre",
            "un petit bateau",
            "le portail du jardin",
            "une soupe chaude",
            "un livre lourd",
            "l'étal du marché",
        ],
        [
            "près de la rivière",
            "dans le village",
            "derrière l'école",
            "à la gare",
            "à côté de l'église",
            "sur la colline",
            "dans la cuisine",
            "au port",
            "sous le pont",
            "sur la place",
        ],
        [
            "chaque matin",
            "après le déjeuner",
            "avant l'aube",
            "le dimanche",
            "en hiver",
            "pendant l'orage",
            "tard le soir",
            "au printemps",
            "à midi",
            "le soir",
        ],
    ),
}


def synthetic_tokens(language: str, count: int, seed: int = 7) -> list[str]:
    """`count` tokens of varied prose cut into 4-character pieces; no 8-word phrase recurs."""
    rng = random.Random(seed)
    words: list[str] = []
    phrases: set[tuple[str, ...]] = set()
    while sum(len(word) + 1 for word in words) < count * 4:
        sentence = " ".join(rng.choice(pool) for pool in VOCABULARY[language]) + "."
        candidate = [*words[-(PHRASE - 1) :], *sentence.split()]
        new = {tuple(candidate[i : i + PHRASE]) for i in range(len(candidate) - PHRASE + 1)}
        if new & phrases:
            continue
        phrases |= new
        words.extend(sentence.split())
    text = " ".join(words)
    return [text[i : i + 4] for i in range(0, len(text), 4)][:count]


class ListedModel:
    """A TextGenerator that writes a fixed list of tokens at once (zero model delay)."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self._tokens = list(tokens)

    async def stream(self, prompt: str, params: GenerationParams) -> AsyncGenerator[Token, None]:
        for index, piece in enumerate(self._tokens):
            last = index == len(self._tokens) - 1
            yield Token(piece, id=index + 3, finish_reason="eos_token" if last else None)

    async def info(self) -> ModelInfo:
        return ModelInfo("listed", max_input_tokens=1024, max_total_tokens=100_000)

    async def tokenize(self, text: str) -> Sequence[int] | None:
        return None

    async def aclose(self) -> None:
        return None


def _context(language: str, model: ListedModel) -> GuardContext:
    message = IncomingMessage(
        id="1",
        conversation=ConversationRef("bench", None, "c"),
        sender=Sender(id="u", locale_hint=language),
        text="Tell me about the town.",
        sent_at=datetime.now(UTC),
    )
    return GuardContext(
        message=message, language=language, history=(), generator=model, params=PARAMS
    )


DIALOG_READ_AHEAD = DialogConfig().read_ahead_tokens
# (label, read-ahead): the dialog's way first, the figure the goal is about.
MODES = (
    (f"as the dialog reads (read-ahead {DIALOG_READ_AHEAD})", DIALOG_READ_AHEAD),
    ("token by token (one check per token)", 1),
)


async def cpu_seconds(
    guards: Sequence[Guard], tokens: list[str], language: str, read_ahead: int = 1
) -> float:
    """CPU time of one reply through the dialog manager's per-token guard loop."""
    model = ListedModel(tokens)
    generation = GuardedGeneration(
        generator=model,
        builder=PromptBuilder(model),
        guards=guards,
        context=_context(language, model),
        prompt=Prompt("<human>: Tell me about the town.\n<bot>:", (), 10, len(tokens)),
        user_text="Tell me about the town.",
        params=PARAMS,
        max_resumes=1,
        metrics=METRICS,
        read_ahead=read_ahead,
    )
    started = time.process_time()
    async for _snapshot in generation.snapshots():
        pass
    elapsed = time.process_time() - started
    if generation.outcome.finish_reason is not FinishReason.STOP:
        names = ", ".join(guard.name for guard in guards)
        raise RuntimeError(f"{names} intervened: {generation.outcome.finish_reason}")
    return elapsed


async def _per_token(
    guards: Sequence[Guard], tokens: list[str], language: str, read_ahead: int
) -> float:
    """Median CPU seconds per token over a few replies (the machine may be shared)."""
    runs = [await cpu_seconds(guards, tokens, language, read_ahead) for _ in range(REPEATS)]
    return statistics.median(runs) / len(tokens)


async def profile(guards: Sequence[Guard], lengths: list[int], top: int) -> None:
    """Print the `top` functions by own CPU time while the default guards check every reply
    as the dialog reads it."""
    replies = [
        (language, synthetic_tokens(language, n)) for language in VOCABULARY for n in lengths
    ]
    profiler = cProfile.Profile()
    profiler.enable()
    for language, tokens in replies:
        await cpu_seconds(guards, tokens, language, DIALOG_READ_AHEAD)
    profiler.disable()
    stats = pstats.Stats(profiler)
    print("\nWhere the default guards' time goes (cProfile; bloombridge functions, with callees):")
    stats.sort_stats("cumulative").print_stats("core/", top)
    print(f"\nThe same by own time (top {top}):")
    stats.sort_stats("tottime").print_stats(top)


async def _table(
    sets: dict[str, list[Guard]], lengths: list[int], read_ahead: int
) -> dict[str, float]:
    """Print each guard set's added microseconds per token; the default guards' average by
    language."""
    print(f"{'guard':<12}{'lang':<6}" + "".join(f"{n:>10} tok" for n in lengths) + "   average")
    averages = {}
    for language in VOCABULARY:
        baseline = []
        added: dict[str, list[float]] = {name: [] for name in sets}
        for length in lengths:
            tokens = synthetic_tokens(language, length)
            await _per_token([], tokens, language, read_ahead)  # warm up
            baseline.append(await _per_token([], tokens, language, read_ahead))
            for name, chosen in sets.items():
                cost = await _per_token(chosen, tokens, language, read_ahead)
                added[name].append(cost - baseline[-1])
        row = "".join(f"{value * 1e6:>14.1f}" for value in baseline)
        print(f"{'baseline':<12}{language:<6}{row}{statistics.fmean(baseline) * 1e6:>10.1f}")
        for name, values in added.items():
            row = "".join(f"{value * 1e6:>14.1f}" for value in values)
            print(f"{name:<12}{language:<6}{row}{statistics.fmean(values) * 1e6:>10.1f}")
        average = averages[language] = statistics.fmean(added["default"]) * 1e6
        print(
            f"  default guards add {average:.1f} us a token on average "
            f"({average / (statistics.fmean(baseline) * 1e6):.1f}x the loop without guards); "
            f"goal <= {GOAL_US:.0f} us"
        )
    return averages


# What a session's size leaves out: code, classes, the reply's text (the caller's) and enum
# members; a bound method's object is reached through its owner's attributes anyway.
_SHARED = (str, type, ModuleType, FunctionType, MethodType, BuiltinMethodType, Enum)


def deep_size(root: object) -> int:
    """Bytes of the objects `root` reaches, each counted once, `_SHARED` ones left out."""
    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, _SHARED):
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        stack.extend(gc.get_referents(item))
    return total


async def repetition_memory(guard: RepetitionGuard, lengths: list[int]) -> None:
    """Print the hashes and bytes one repetition session keeps after each reply length."""
    print(
        f"\nrepetition guard's state per reply (window {guard.window_words} words), "
        f"as the dialog reads: hashes held, KiB"
    )
    print(f"{'lang':<6}" + "".join(f"{n:>16} tok" for n in lengths))
    for language in VOCABULARY:
        row = ""
        for length in lengths:
            tokens = synthetic_tokens(language, length)
            session = guard.begin(_context(language, ListedModel(tokens)))
            assert isinstance(session, RepetitionSession)
            text = ""
            for start in range(0, len(tokens), DIALOG_READ_AHEAD):
                text += "".join(tokens[start : start + DIALOG_READ_AHEAD])
                await session.check(text, final=False)
            await session.check(text, final=True)
            row += f"{session.held():>10} {deep_size(session) / 1024:>8.1f}"
        print(f"{language:<6}{row}")


async def main(lengths: list[int], top: int) -> None:
    settings = Settings(tgi_urls=[dead_url()])
    await load_language_models(settings)
    # Collect the garbage of loading the models now, not inside the first guard measured.
    gc.collect()
    guards = build_guards(settings)
    sets: dict[str, list[Guard]] = {guard.name: [guard] for guard in guards}
    sets["default"] = guards
    print(
        "CPU microseconds per token a guard adds to the dialog manager's per-token loop "
        f"(median of {REPEATS} replies, zero model delay; baseline: the loop with no guard)"
    )
    summary = []
    for label, read_ahead in MODES:
        print(f"\n{label}:")
        averages = await _table(sets, lengths, read_ahead)
        summary.append(
            f"{label}: " + ", ".join(f"{lang} {value:.1f}" for lang, value in averages.items())
        )
    print("\ndefault guards, us a token added, averaged over the lengths (same run):")
    for line in summary:
        print(f"  {line}")
    for guard in guards:
        if isinstance(guard, RepetitionGuard):
            await repetition_memory(guard, lengths)
    if top:
        await profile(guards, lengths, top)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lengths", type=int, nargs="+", default=[200, 500, 2000])
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="then print the top N functions"
    )
    arguments = parser.parse_args()
    asyncio.run(main(arguments.lengths, arguments.profile))
