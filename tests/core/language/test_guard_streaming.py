"""The language guard decides the same whether it sees a reply token by token or whole.

Its sentences here stay under the length at which an unfinished sentence is judged early, so
a token-by-token check and one check of the whole reply must judge the same sentences and stop
at the same place. Restarts from a kept prefix and cuts hand the guard text that is not an
extension of what it saw; it must judge that text as it is.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from core.generation.base import GenerationParams
from core.generation.tgi import TgiGenerator
from core.guards.base import GuardContext, GuardSession, Verdict, VerdictKind
from core.language.default_detector import DefaultDetector
from core.language.guard import LanguageGuard
from core.language.guard_thresholds import PARTIAL_WINDOW
from core.messages import ConversationRef, IncomingMessage, Sender
from tests.fakes.tgi import FakeTGI

FRENCH = (
    "Le musée ouvre tôt le dimanche.",
    "Mon frère répare de vieux vélos.",
    "Nous avons marché le long du fleuve.",
    "Envoyez-moi le rapport ce soir.",
    "Les enfants jouent dehors.",
    "Cette recette demande des tomates.",
)
ENGLISH = (
    "We walked along the river yesterday.",
    "Please send me the report tonight.",
    "The children are playing outside.",
)
# Not prose: masked away, never a reason to stop.
EXTRAS = (
    "`pip install requests`",
    "https://example.org/docs/index.html",
    "Jean Dupont",
    "3,14",
    "\n\n```\nThe children are playing outside.\nWe walked along the river yesterday.\n```\n\n",
    "(NASA, 2024)",
)


@pytest.fixture
async def generator() -> AsyncIterator[TgiGenerator]:
    async with FakeTGI() as fake, TgiGenerator(fake.url) as client:
        yield client


def session(detector: DefaultDetector, generator: TgiGenerator) -> GuardSession:
    message = IncomingMessage(
        id="m1",
        conversation=ConversationRef("test", None, "c1"),
        sender=Sender("u1"),
        text="Raconte-moi ta journée.",
        sent_at=datetime.now(UTC),
    )
    context = GuardContext(message, "fr", (), generator, GenerationParams())
    return LanguageGuard(detector, translate=False).begin(context)


def random_reply(rng: random.Random) -> str:
    parts = [rng.choice(FRENCH)]
    for _ in range(rng.randint(2, 7)):
        pool = rng.choice((FRENCH, FRENCH, ENGLISH, EXTRAS))
        parts.append(rng.choice(pool))
    return " ".join(parts)


async def streamed(guard: GuardSession, text: str, rng: random.Random) -> tuple[Verdict, int]:
    """The first intervention (or the final verdict) and the most text ever cleared."""
    shown = 0
    end = 0
    while end < len(text):
        end = min(len(text), end + rng.choice((1, 2, 3, 4, 6)))
        verdict = await guard.check(text[:end], final=False)
        if verdict.kind is not VerdictKind.PASS:
            return verdict, shown
        shown = max(shown, end if verdict.cleared is None else verdict.cleared)
    return await guard.check(text, final=True), shown


@pytest.mark.parametrize("seed", range(3))
async def test_token_by_token_checks_stop_where_one_check_of_the_whole_reply_stops(
    detector: DefaultDetector, generator: TgiGenerator, seed: int
) -> None:
    rng = random.Random(seed)
    outcomes: set[VerdictKind] = set()
    for _ in range(12):
        text = random_reply(rng)
        verdict, shown = await streamed(session(detector, generator), text, rng)
        whole = await session(detector, generator).check(text, final=True)
        assert (verdict.kind, verdict.at, verdict.reason) == (whole.kind, whole.at, whole.reason)
        if verdict.kind is VerdictKind.RESUME:
            assert shown <= verdict.at  # nothing of the foreign sentence was ever cleared
        outcomes.add(verdict.kind)
    assert outcomes == {VerdictKind.PASS, VerdictKind.RESUME}


async def test_a_restart_from_the_kept_text_is_checked_as_new_text(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    guard = session(detector, generator)
    rng = random.Random(7)
    head = " ".join(FRENCH[:3])
    verdict, _ = await streamed(guard, f"{head} {ENGLISH[0]} {ENGLISH[1]}", rng)
    assert verdict.kind is VerdictKind.RESUME
    assert verdict.at == len(head) + 1
    kept = head
    # The model continues in French after the firmer instruction: everything passes.
    restarted = f"{kept} {FRENCH[4]} {FRENCH[5]}"
    shown = 0
    for end in range(len(kept) + 1, len(restarted) + 1):
        step = await guard.check(restarted[:end], final=False)
        assert step.kind is VerdictKind.PASS
        shown = max(shown, end if step.cleared is None else step.cleared)
    assert (await guard.check(restarted, final=True)).kind is VerdictKind.PASS
    assert shown >= len(kept) + 1 + len(FRENCH[4])


async def test_a_restart_longer_than_the_text_it_replaces_is_checked_as_new_text(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    # The resumed reply's first batch of tokens already reaches past the end of the text the
    # guard last saw: it is still new text from the kept prefix on, not an extension.
    guard = session(detector, generator)
    head = " ".join(FRENCH[:3])
    drifted = f"{head} {ENGLISH[0]} {ENGLISH[1]}"
    verdict, _ = await streamed(guard, drifted, random.Random(9))
    assert verdict.kind is VerdictKind.RESUME
    restarted = f"{head} {FRENCH[5]} {FRENCH[4]} {FRENCH[3]}"
    assert len(restarted) > len(drifted)
    step = await guard.check(restarted, final=False)
    assert step.kind is VerdictKind.PASS
    assert (await guard.check(restarted, final=True)).kind is VerdictKind.PASS


async def test_a_second_drift_after_a_restart_cuts_and_the_kept_text_passes(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    guard = session(detector, generator)
    rng = random.Random(8)
    head = " ".join(FRENCH[:2])
    first, _ = await streamed(guard, f"{head} {ENGLISH[2]} {FRENCH[3]}", rng)
    assert first.kind is VerdictKind.RESUME
    restarted = f"{head} {FRENCH[5]} {ENGLISH[0]} {ENGLISH[1]}"
    second, shown = await streamed(guard, restarted, rng)
    cut_at = len(f"{head} {FRENCH[5]}") + 1
    assert (second.kind, second.at) == (VerdictKind.CUT, cut_at)
    assert shown <= cut_at
    # The dialog manager checks the shorter, kept text once more before ending the reply.
    assert (await guard.check(restarted[:cut_at], final=True)).kind is VerdictKind.PASS


async def test_a_switch_deep_inside_a_run_on_sentence_is_still_caught(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    # No full stop anywhere: the unfinished sentence is judged on its latest part as it grows,
    # so a switch is caught however much French came before it in the same sentence.
    french = ", ".join(sentence.rstrip(".").lower() for sentence in FRENCH * 5)
    english = ", ".join(sentence.rstrip(".").lower() for sentence in ENGLISH * 6)
    assert len(french) > 2 * PARTIAL_WINDOW
    verdict, shown = await streamed(
        session(detector, generator), f"{french}, {english}", random.Random(3)
    )
    assert verdict.kind is VerdictKind.RESUME
    # Inside one sentence, a tail that still reads French overall may be shown: at most a window.
    assert shown - len(french) < PARTIAL_WINDOW
    assert verdict.at - len(french) < PARTIAL_WINDOW


async def test_a_long_run_on_sentence_in_the_right_language_passes(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    french = ", ".join(sentence.rstrip(".").lower() for sentence in FRENCH * 8)
    verdict, shown = await streamed(session(detector, generator), french, random.Random(4))
    assert verdict.kind is VerdictKind.PASS
    assert shown > len(french) - PARTIAL_WINDOW  # the display kept up while it grew
