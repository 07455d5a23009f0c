"""The guard model judges a streamed reply in checkpoints running at once, ahead of the display."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from core.generation.base import GenerationParams
from core.generation.tgi import TgiGenerator
from core.guards.base import GuardContext, VerdictKind
from core.messages import ConversationRef, IncomingMessage, Sender
from core.safety.guard import SafetyGuard
from core.safety.guard_formats import LlamaGuard3
from core.safety.guard_model import GuardModelClassifier
from core.safety.policy import SafetyPolicy
from core.safety.wordlists import WordListClassifier
from tests.fakes.tgi import FakeTGI, GenerateCall, Script

SENTENCES = [
    "The river is calm today.",
    "We walked along the bank.",
    "The birds were singing loudly.",
    "Then we went home for lunch.",
]


@pytest.fixture
def answers() -> asyncio.Event:
    return asyncio.Event()


@pytest.fixture
async def guard_model(answers: asyncio.Event) -> AsyncIterator[FakeTGI]:
    def respond(call: GenerateCall) -> Script:
        # Every verdict waits until the test lets the guard model answer.
        return Script(reply=["\n\n", "safe"], hang=answers)

    async with FakeTGI(responder=respond) as fake:
        yield fake


def context() -> GuardContext:
    message = IncomingMessage(
        id="1",
        conversation=ConversationRef("test", None, "c"),
        sender=Sender(id="u", locale_hint="en"),
        text="Tell me about your day.",
        sent_at=datetime.now(UTC),
    )
    return GuardContext(message, "en", (), None, GenerationParams())  # type: ignore[arg-type]


async def test_checkpoints_are_judged_at_once_and_text_waits_only_for_its_own(
    guard_model: FakeTGI, answers: asyncio.Event
) -> None:
    client = GuardModelClassifier(TgiGenerator(guard_model.url), LlamaGuard3(), timeout=5.0)
    guard = SafetyGuard(SafetyPolicy([WordListClassifier(), client]), max_checks_in_flight=4)
    session = guard.begin(context())
    text = ""
    for sentence in SENTENCES:
        text += sentence + " "
        for end in range(len(text) - len(sentence) - 1, len(text) + 1):
            verdict = await session.check(text[:end], final=False)
            # Nothing the guard model has not answered for is shown.
            assert verdict.kind is VerdictKind.PASS and verdict.cleared == 0
    # One check per sentence, all sent while none has been answered: they run side by side.
    await guard_model.wait_for_requests(len(SENTENCES))
    answers.set()
    final = await session.check(text, final=True)
    assert final.kind is VerdictKind.PASS
    await session.aclose()
    await client.aclose()
