"""With every default guard, text shows word by word, and no unchecked character is ever shown."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from core.config import DialogConfig
from core.dialog import DialogManager
from core.generation.tgi import TgiGenerator
from core.guards.repetition import RepetitionGuard
from core.language.default_detector import DefaultDetector
from core.language.guard import LanguageGuard
from core.language.policy import ReplyLanguagePolicy
from core.messages import ConversationRef, FinishReason, IncomingMessage, Sender
from core.safety.guard import SafetyGuard
from core.safety.policy import SafetyPolicy
from core.safety.wordlists import WordListClassifier
from core.store.memory import MemoryStore
from tests.fakes.tgi import FakeTGI, Script

FIRST = "Paris est la capitale de la France et une très grande ville."
SECOND = " Elle compte plus de deux millions d'habitants."
ENGLISH = " The city is also famous for its museums and its food."
CALM = " La ville est célèbre pour ses musées et sa cuisine."


def pieces(text: str) -> list[str]:
    """Cut like a model's tokens: at most four characters, a space going with what follows."""
    return [text[i : i + 4] for i in range(0, len(text), 4)]


@pytest.fixture
async def tgi() -> AsyncIterator[FakeTGI]:
    async with FakeTGI() as fake:
        yield fake


@pytest.fixture
async def dialog(tgi: FakeTGI, detector: DefaultDetector) -> AsyncIterator[DialogManager]:
    guards = [
        SafetyGuard(SafetyPolicy([WordListClassifier()])),
        LanguageGuard(detector, translate=False),
        RepetitionGuard(),
    ]
    async with TgiGenerator(tgi.url) as generator:
        yield DialogManager(
            generator=generator,
            store=MemoryStore(),
            language_policy=ReplyLanguagePolicy(detector),
            guards=guards,
            # Token by token, as a model at its usual pace sends them (the fake has no delay).
            config=DialogConfig(read_ahead_tokens=1),
        )


async def ask(dialog: DialogManager, text: str) -> tuple[list[str], str, FinishReason]:
    message = IncomingMessage(
        id="m",
        conversation=ConversationRef("test", None, "early"),
        sender=Sender(id="u1", locale_hint="fr"),
        text=text,
        sent_at=datetime.now(UTC),
    )
    stream = dialog.handle(message)
    snapshots = [snapshot async for snapshot in stream]
    return snapshots, stream.reply.text, stream.reply.finish_reason


async def test_the_first_words_show_before_the_first_sentence_ends(
    tgi: FakeTGI, dialog: DialogManager
) -> None:
    tgi.enqueue(Script(reply=pieces(FIRST + SECOND)))
    snapshots, text, finish = await ask(dialog, "Parle-moi de Paris, s'il te plaît.")
    assert finish is FinishReason.STOP and text == (FIRST + SECOND).strip()
    first_sentence = [s for s in snapshots if len(s) < len(FIRST)]
    # Shown word by word: several snapshots before the first full stop, the first within a
    # few words of the start.
    assert len(first_sentence) >= 5
    assert len(snapshots[0]) <= len("Paris est la capitale")
    for earlier, later in itertools.pairwise(snapshots):
        assert later.startswith(earlier)


async def test_a_switch_and_a_listed_word_are_never_shown(
    tgi: FakeTGI, dialog: DialogManager
) -> None:
    insult = " Quel connard, ce guide."
    tgi.enqueue(Script(reply=pieces(FIRST + ENGLISH)), Script(reply=pieces(CALM + insult)))
    snapshots, text, finish = await ask(dialog, "Parle-moi de Paris, s'il te plaît.")
    assert finish is FinishReason.REPLACED and "connard" not in text
    for snapshot in snapshots:
        # Nothing of the English sentence, nothing from the listed word on.
        assert "The" not in snapshot and "city" not in snapshot, snapshot
        assert "connard" not in snapshot, snapshot
    assert any(CALM.strip()[:20] in snapshot for snapshot in snapshots)
