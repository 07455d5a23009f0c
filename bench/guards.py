"""Guard cost per streamed token, by guard and reply length: does checking stay linear?

Run: .venv/bin/python -m bench.guards [--lengths 200 500 2000]
Each default guard (as `bots.wiring` builds it from default settings) watches a synthetic reply
grow token by token, exactly as the dialog manager calls it. The baseline is the same loop with
no guard. Microseconds per token that grow with the reply length mean the guard re-reads the
whole reply on every token.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import time
from datetime import UTC, datetime

from bots.language_setup import load_language_models
from bots.settings import Settings
from bots.wiring import build_guards
from core.generation.base import GenerationParams
from core.guards.base import Guard, GuardContext, VerdictKind
from core.messages import ConversationRef, IncomingMessage, Sender
from tests.fakes.tgi import dead_url

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


def _context(language: str) -> GuardContext:
    message = IncomingMessage(
        id="1",
        conversation=ConversationRef("bench", None, "c"),
        sender=Sender(id="u", locale_hint=language),
        text="Tell me about the town.",
        sent_at=datetime.now(UTC),
    )
    return GuardContext(
        message=message,
        language=language,
        history=(),
        generator=None,  # type: ignore[arg-type]  # guards under test never call the model here
        params=GenerationParams(),
    )


async def _seconds(guard: Guard | None, tokens: list[str], language: str) -> float:
    session = guard.begin(_context(language)) if guard is not None else None
    started = time.perf_counter()
    text = ""
    for token in tokens:
        text += token
        if session is not None:
            verdict = await session.check(text, final=False)
            if verdict.kind is not VerdictKind.PASS:
                raise RuntimeError(f"{guard.name if guard else ''} intervened: {verdict.reason}")
    if session is not None:
        await session.check(text, final=True)
        await session.aclose()
    return time.perf_counter() - started


async def main(lengths: list[int]) -> None:
    settings = Settings(tgi_urls=[dead_url()])
    await load_language_models(settings)
    # Collect the garbage of loading the models now, not inside the first guard measured.
    gc.collect()
    guards = build_guards(settings)
    print("microseconds per token (lower is better); baseline = the same loop with no guard")
    header = f"{'guard':<12}{'lang':<6}" + "".join(f"{n:>10} tok" for n in lengths)
    print(header)
    for language in VOCABULARY:
        runs: dict[str, list[float]] = {}
        for length in lengths:
            tokens = synthetic_tokens(language, length)
            runs.setdefault("baseline", []).append(await _seconds(None, tokens, language) / length)
            for guard in guards:
                seconds = await _seconds(guard, tokens, language)
                runs.setdefault(guard.name, []).append(seconds / length)
        for name, per_token in runs.items():
            print(f"{name:<12}{language:<6}" + "".join(f"{v * 1e6:>14.1f}" for v in per_token))
        growth = {
            name: values[-1] / values[0] for name, values in runs.items() if name != "baseline"
        }
        summary = ", ".join(f"{name} {ratio:.1f}x" for name, ratio in growth.items())
        print(f"  per-token cost at {lengths[-1]} vs {lengths[0]} tokens: {summary}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lengths", type=int, nargs="+", default=[200, 500, 2000])
    arguments = parser.parse_args()
    asyncio.run(main(arguments.lengths))
