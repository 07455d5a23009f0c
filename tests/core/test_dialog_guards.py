"""How the dialog manager applies guard verdicts: hold back, cut, resume, replace, screen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest

from core.config import DialogConfig
from core.dialog import DialogManager
from core.generation.base import GenerationParams, ModelInfo, Token
from core.generation.read_ahead import DEFAULT_LIMIT as DEFAULT_READ_AHEAD
from core.generation.tgi import TgiGenerator
from core.guards.base import Guard, GuardContext, GuardSession, Verdict
from core.messages import ConversationRef, FinishReason, IncomingMessage, Reply, Sender
from core.store.memory import MemoryStore
from tests.fakes.tgi import FakeTGI, Script

CHAT = ConversationRef(platform="test", space=None, channel="c1")
TOKEN_BY_TOKEN = DialogConfig(read_ahead_tokens=1)


def message(text: str) -> IncomingMessage:
    return IncomingMessage(
        id="1",
        conversation=CHAT,
        sender=Sender(id="u1", locale_hint="fr"),
        text=text,
        sent_at=datetime.now(UTC),
    )


class WordGuard(Guard):
    """Acts when `word` appears; clears text only up to the last full stop before it."""

    name = "word"

    def __init__(self, word: str, action: str, instruction: str = "") -> None:
        self.word = word
        self.action = action
        self.instruction = instruction
        self.checked_finals: list[str] = []

    def begin(self, context: GuardContext) -> GuardSession:
        return _WordSession(self)


class _WordSession(GuardSession):
    def __init__(self, guard: WordGuard) -> None:
        self.guard = guard

    async def check(self, text: str, *, final: bool) -> Verdict:
        if final:
            self.guard.checked_finals.append(text)
        position = text.find(self.guard.word)
        if position < 0:
            # Hold back the unfinished sentence: it could still turn bad.
            return Verdict.allow(None if final else text.rfind(".") + 1)
        sentence_start = text.rfind(".", 0, position) + 1
        if self.guard.action == "cut":
            return Verdict.cut(sentence_start, "bad-word")
        if self.guard.action == "resume":
            return Verdict.resume(sentence_start, self.guard.instruction, "bad-word")
        return Verdict.replace("[removed]", "bad-word")


class RefuseEverything(Guard):
    name = "screen"

    async def screen(self, context: GuardContext) -> Verdict | None:
        return Verdict.replace(f"refused in {context.language}", "unsafe-input")

    def begin(self, context: GuardContext) -> GuardSession:
        raise AssertionError("no reply session may start for a refused message")


@pytest.fixture
async def tgi() -> AsyncIterator[FakeTGI]:
    async with FakeTGI() as fake:
        yield fake


async def run(
    tgi: FakeTGI, guard: Guard, text: str = "hello"
) -> tuple[list[str], Reply, DialogManager]:
    async with TgiGenerator(tgi.url) as generator:
        # Token by token: each test follows what the guard sees after every token.
        dialog = DialogManager(
            generator=generator, store=MemoryStore(), guards=[guard], config=TOKEN_BY_TOKEN
        )
        stream = dialog.handle(message(text))
        snapshots = [snapshot async for snapshot in stream]
        return snapshots, stream.reply, dialog


async def test_only_cleared_text_is_ever_shown(tgi: FakeTGI) -> None:
    tgi.enqueue(Script(reply="First sentence. Second sentence. Third"))
    snapshots, reply, _ = await run(tgi, WordGuard("never", "cut"))
    assert snapshots[:2] == ["First sentence.", "First sentence. Second sentence."]
    assert reply.text == "First sentence. Second sentence. Third"


async def test_cut_stops_generation_and_no_bad_text_is_shown(tgi: FakeTGI) -> None:
    # The server holds after " BAD words": the rest is unsent unless the client keeps reading.
    held = asyncio.Event()
    tgi.enqueue(
        Script(reply="Good start. Then BAD words follow. More text here.", hang=held, hang_after=6)
    )
    snapshots, reply, dialog = await run(tgi, WordGuard("BAD", "cut"))
    assert reply.text == "Good start."
    assert reply.finish_reason is FinishReason.CUT
    assert not any("BAD" in s or "Then" in s for s in snapshots)
    record = tgi.streams[-1]
    await record.finished.wait()
    assert record.disconnected and not record.completed
    labels = {"guard": "word", "action": "cut", "reason": "bad-word", "language": "fr"}
    assert dialog.metrics.value("bloombridge_guard_interventions_total", labels) == 1


async def test_replace_shows_the_replacement(tgi: FakeTGI) -> None:
    tgi.enqueue(Script(reply="Fine. BAD. Fine again."))
    snapshots, reply, _ = await run(tgi, WordGuard("BAD", "replace"))
    assert reply.text == "[removed]"
    assert reply.finish_reason is FinishReason.REPLACED
    assert snapshots == ["Fine."]


async def test_resume_restarts_from_the_kept_text_with_the_instruction(tgi: FakeTGI) -> None:
    tgi.enqueue(
        Script(reply="Bonjour. BAD english here."),
        Script(reply=" Comment allez-vous ?"),
    )
    guard = WordGuard("BAD", "resume", instruction="Réponds uniquement en français.")
    snapshots, reply, _ = await run(tgi, guard, "Salut")
    assert reply.text == "Bonjour. Comment allez-vous ?"
    assert not any("BAD" in s for s in snapshots)
    second_prompt = tgi.generation_requests()[1].body["inputs"]
    assert second_prompt == "<human>: Salut\n\nRéponds uniquement en français.\n<bot>: Bonjour."
    assert guard.checked_finals == ["Bonjour. Comment allez-vous ?"]


async def test_resume_gives_up_after_the_allowed_restarts(tgi: FakeTGI) -> None:
    tgi.enqueue(*(Script(reply="Ok. BAD again.") for _ in range(4)))
    _, reply, _ = await run(tgi, WordGuard("BAD", "resume", instruction="Stop it."))
    assert reply.finish_reason is FinishReason.CUT
    assert "BAD" not in reply.text
    assert len(tgi.generation_requests()) == 3  # the first try and two restarts


async def test_screen_refuses_without_calling_the_model(tgi: FakeTGI) -> None:
    snapshots, reply, _ = await run(tgi, RefuseEverything())
    assert snapshots == []
    assert reply.text == "refused in fr"
    assert reply.finish_reason is FinishReason.REPLACED
    assert tgi.generation_requests() == []


class InstantModel:
    """A model whose tokens are all there at once (a fast model, a busy process): no pauses."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces
        self.sent = 0

    async def stream(self, prompt: str, params: GenerationParams) -> AsyncGenerator[Token, None]:
        for index, piece in enumerate(self.pieces):
            self.sent += 1
            last = index == len(self.pieces) - 1
            yield Token(piece, finish_reason="eos_token" if last else None)

    async def info(self) -> ModelInfo:
        return ModelInfo("instant", max_input_tokens=1000, max_total_tokens=2000)

    async def tokenize(self, text: str) -> Sequence[int] | None:
        return None

    async def aclose(self) -> None:
        return None


class CountingGuard(WordGuard):
    """A `WordGuard` that counts the checks its sessions make."""

    def __init__(self, word: str, action: str) -> None:
        super().__init__(word, action)
        self.checks: list[str] = []

    def begin(self, context: GuardContext) -> GuardSession:
        inner = super().begin(context)
        checks = self.checks

        class Counting(GuardSession):
            async def check(self, text: str, *, final: bool) -> Verdict:
                checks.append(text)
                return await inner.check(text, final=final)

        return Counting()


async def test_tokens_that_arrive_together_are_judged_together_and_only_cleared_text_shows() -> (
    None
):
    text = "One sentence here. " * 20 + "Last words"
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
    model = InstantModel(pieces)
    guard = CountingGuard("never", "cut")
    dialog = DialogManager(generator=model, store=MemoryStore(), guards=[guard])
    stream = dialog.handle(message("hello"))
    snapshots = [snapshot async for snapshot in stream]
    assert stream.reply.text == text.strip()
    # Judged once per batch of read-ahead tokens, not once per token.
    assert len(guard.checks) <= len(pieces) // DEFAULT_READ_AHEAD + 2
    # Every snapshot is text the guard cleared: it ends at a full stop.
    assert snapshots and all(snapshot.endswith(".") for snapshot in snapshots)


async def test_a_cut_stops_a_fast_model_within_the_read_ahead() -> None:
    text = "Good start. Then BAD words follow." + " More text here." * 100
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
    model = InstantModel(pieces)
    dialog = DialogManager(generator=model, store=MemoryStore(), guards=[WordGuard("BAD", "cut")])
    stream = dialog.handle(message("hello"))
    snapshots = [snapshot async for snapshot in stream]
    assert stream.reply.text == "Good start."
    assert not any("BAD" in s or "Then" in s for s in snapshots)
    # The model was asked for at most two read-ahead batches beyond the one with "BAD".
    assert model.sent <= 3 * DEFAULT_READ_AHEAD


async def test_a_reply_held_to_its_end_counts_its_first_visible_text_once() -> None:
    # All tokens at once, and the guard clears nothing before the final check: the user's
    # first text is the finished reply.
    model = InstantModel(["No", " full", " stop", " here"])
    dialog = DialogManager(generator=model, store=MemoryStore(), guards=[WordGuard("never", "cut")])
    stream = dialog.handle(message("hello"))
    snapshots = [snapshot async for snapshot in stream]
    assert snapshots == []
    assert stream.reply.text == "No full stop here"
    assert dialog.metrics.value("bloombridge_first_visible_seconds_count") == 1


async def test_a_streamed_reply_counts_its_first_visible_text_once() -> None:
    model = InstantModel([f"Sentence {number}. " for number in range(100)])
    dialog = DialogManager(generator=model, store=MemoryStore(), guards=[WordGuard("never", "cut")])
    stream = dialog.handle(message("hello"))
    snapshots = [snapshot async for snapshot in stream]
    assert len(snapshots) > 1
    assert dialog.metrics.value("bloombridge_first_visible_seconds_count") == 1
