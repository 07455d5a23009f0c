"""The language guard's checkpoints: detection once per sentence, and never past unchecked text.

A sentence shown as it grows stops at a mark that may end it; the next checkpoint comes once
the text after the mark has the letters a later sentence's opening is judged on, and settles
both. These tests count the detector's runs and check that no character past a checkpoint's
judgement is ever cleared.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from core.generation.base import GenerationParams, TextGenerator
from core.generation.tgi import TgiGenerator
from core.guards.base import GuardContext, GuardSession, VerdictKind
from core.language.default_detector import DefaultDetector
from core.language.detector import Detection, LanguageDetector
from core.language.guard import LanguageGuard
from core.language.guard_thresholds import LATER_FIT_LETTERS
from core.messages import ConversationRef, IncomingMessage, Sender
from tests.core.language.test_guard_streaming import ENGLISH, FRENCH
from tests.fakes.tgi import FakeTGI


@pytest.fixture
async def generator() -> AsyncIterator[TgiGenerator]:
    async with FakeTGI() as fake, TgiGenerator(fake.url) as client:
        yield client


class CountingDetector(LanguageDetector):
    """The default detector, counting the texts it is asked about."""

    def __init__(self, inner: DefaultDetector) -> None:
        self._inner = inner
        self.texts: list[str] = []

    @property
    def languages(self) -> frozenset[str]:
        return self._inner.languages

    def detect(self, text: str) -> Detection:
        self.texts.append(text)
        return self._inner.detect(text)


def session(detector: LanguageDetector, generator: TextGenerator) -> GuardSession:
    message = IncomingMessage(
        id="m1",
        conversation=ConversationRef("test", None, "c1"),
        sender=Sender("u1"),
        text="Raconte-moi ta journée.",
        sent_at=datetime.now(UTC),
    )
    context = GuardContext(message, "fr", (), generator, GenerationParams())
    return LanguageGuard(detector, translate=False).begin(context)


# Sentences long enough to be judged while unfinished when a batch of tokens ends inside one.
LONG_FRENCH = (
    "Le vieux boulanger du village porte une chaise en bois près de la rivière chaque matin.",
    "Notre voisine répare la porte bleue du jardin pendant que les enfants jouent dehors.",
    "Ma soeur étudie une vieille carte de la région avant de partir en voyage au printemps.",
    "Le pêcheur vend du poisson frais sur la place du marché tous les samedis après-midi.",
)


@pytest.mark.parametrize(
    ("sentences", "step", "second_looks"),
    [(FRENCH, 4, 1), (LONG_FRENCH, 4, 1), (LONG_FRENCH, 40, 0), (LONG_FRENCH, 60, 0)],
)
async def test_a_reply_of_sentences_in_the_target_costs_one_detection_a_sentence(
    detector: DefaultDetector,
    generator: TgiGenerator,
    sentences: tuple[str, ...],
    step: int,
    second_looks: int,
) -> None:
    # Token by token, or in batches of tokens that arrived together (`step` characters).
    counting = CountingDetector(detector)
    guard = session(counting, generator)
    text = " ".join(sentences)
    for end in range(step, len(text) + step, step):
        verdict = await guard.check(text[:end], final=False)
        assert verdict.kind is VerdictKind.PASS
    assert (await guard.check(text, final=True)).kind is VerdictKind.PASS
    # Token by token, the first sentence may take a second look (its opening is judged on a
    # few letters); a long sentence judged unfinished is not judged again once it ends.
    assert len(counting.texts) <= len(sentences) + second_looks, counting.texts


async def test_a_later_sentence_is_not_shown_before_its_opening_is_judged(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    counting = CountingDetector(detector)
    guard = session(counting, generator)
    first = FRENCH[0]
    text = f"{first} {FRENCH[1]}"
    for end in range(1, len(text) + 1):
        verdict = await guard.check(text[:end], final=False)
        assert verdict.cleared is not None
        cleared = text[: verdict.cleared]
        if len(cleared) > len(first) and cleared[len(first) :].strip():
            # Shown past the first sentence: its opening was judged on enough letters.
            opening = counting.texts[-1]
            assert sum(map(str.isalpha, opening)) >= LATER_FIT_LETTERS, opening
            assert opening in text[len(first) :]


async def test_a_decimal_point_does_not_stop_a_sentence_shown_as_it_grows(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    guard = session(detector, generator)
    text = "Le prix du billet est de 3.50 euros pour les enfants du quartier"
    cleared = 0
    for end in range(1, len(text) + 1):
        verdict = await guard.check(text[:end], final=False)
        assert verdict.cleared is not None
        cleared = verdict.cleared
    assert cleared == len(text)


async def test_no_character_of_a_switch_is_cleared_whatever_the_token_sizes(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    rng = random.Random(11)
    for _ in range(20):
        french = rng.sample(FRENCH, rng.randint(1, 4))
        switch = " ".join(french) + " "
        text = switch + rng.choice(ENGLISH) + " " + rng.choice(FRENCH)
        guard = session(detector, generator)
        end = 0
        while end < len(text):
            end = min(len(text), end + rng.choice((1, 2, 3, 4, 5, 7)))
            verdict = await guard.check(text[:end], final=False)
            if verdict.kind is not VerdictKind.PASS:
                assert verdict.at <= len(switch)
                break
            assert verdict.cleared is not None and verdict.cleared <= len(switch), text
        else:
            raise AssertionError(f"the switch was never found: {text!r}")
