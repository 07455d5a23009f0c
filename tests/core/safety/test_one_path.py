"""Every text a user can see passes the safety check: translations, repairs, echoed notices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from core.dialog import DialogManager
from core.generation.tgi import TgiGenerator
from core.guards.base import Guard
from core.language.default_detector import DefaultDetector
from core.language.guard import LanguageGuard
from core.language.policy import ReplyLanguagePolicy
from core.messages import ConversationRef, FinishReason, IncomingMessage, Reply, Sender
from core.notices import notice
from core.safety.guard import SafetyGuard
from core.safety.policy import SafetyPolicy
from core.safety.wordlists import WordListClassifier
from core.store.memory import MemoryStore
from tests.fakes.tgi import FakeTGI, Script

CHAT = ConversationRef(platform="test", space=None, channel="one-path")
FRENCH = "Paris est la capitale de la France. Elle compte plus de deux millions d'habitants."
DRIFT = (
    " The city is also famous for its museums and its food. It attracts many visitors every year."
)
OBSCENE_WORDS = ("putain", "merde", "connard")


@pytest.fixture(scope="module")
def detector() -> DefaultDetector:
    return DefaultDetector()


@pytest.fixture
async def tgi() -> AsyncIterator[FakeTGI]:
    async with FakeTGI() as fake:
        yield fake


async def ask(
    tgi: FakeTGI, detector: DefaultDetector, guards: list[Guard], text: str
) -> tuple[list[str], Reply]:
    async with TgiGenerator(tgi.url) as generator:
        dialog = DialogManager(
            generator=generator,
            store=MemoryStore(),
            language_policy=ReplyLanguagePolicy(detector),
            guards=guards,
        )
        stream = dialog.handle(
            IncomingMessage(
                id="m",
                conversation=CHAT,
                sender=Sender(id="u1", locale_hint="fr"),
                text=text,
                sent_at=datetime.now(UTC),
            )
        )
        snapshots = [snapshot async for snapshot in stream]
        return snapshots, stream.reply


def assert_nothing_obscene_shown(snapshots: list[str], reply: Reply) -> None:
    for shown in [*snapshots, reply.text, *reply.notices]:
        assert not any(word in shown.casefold() for word in OBSCENE_WORDS), shown


def guards(detector: DefaultDetector) -> list[Guard]:
    return [LanguageGuard(detector), SafetyGuard(SafetyPolicy([WordListClassifier()]))]


async def test_a_translation_with_an_obscenity_is_blocked(
    tgi: FakeTGI, detector: DefaultDetector
) -> None:
    tgi.enqueue(
        Script(reply=FRENCH + DRIFT),
        Script(reply=" La ville est célèbre pour ses musées. Yet it drifts into English again."),
        Script(reply="Putain, elle repasse encore à l'anglais, merde."),
    )
    snapshots, reply = await ask(
        tgi, detector, guards(detector), "Parle-moi de Paris et de son histoire, s'il te plaît."
    )
    prompts = [request.body["inputs"] for request in tgi.generation_requests()]
    assert "Translate the following text into French" in prompts[-1], "the model translated"
    assert reply.finish_reason is FinishReason.REPLACED
    assert reply.text == notice("refusal", "fr")
    assert_nothing_obscene_shown(snapshots, reply)


async def test_a_repair_with_an_obscenity_is_blocked(
    tgi: FakeTGI, detector: DefaultDetector
) -> None:
    tgi.enqueue(
        Script(reply=FRENCH + DRIFT),
        Script(reply=" Elle est aussi célèbre pour ses musées, putain de merde."),
    )
    snapshots, reply = await ask(
        tgi, detector, guards(detector), "Parle-moi de Paris et de son histoire, s'il te plaît."
    )
    assert "write the whole answer in French" in tgi.generation_requests()[1].body["inputs"]
    assert reply.text == notice("refusal", "fr")
    assert_nothing_obscene_shown(snapshots, reply)


async def test_a_notice_repeating_the_users_words_is_checked(
    tgi: FakeTGI, detector: DefaultDetector
) -> None:
    snapshots, reply = await ask(tgi, detector, guards(detector), "/connard")
    assert reply.text == notice("refusal", "fr")
    assert_nothing_obscene_shown(snapshots, reply)
    # An ordinary unknown command is still answered.
    _, plain = await ask(tgi, detector, guards(detector), "/bonjour")
    assert "/bonjour" in "\n".join((plain.text, *plain.notices))
