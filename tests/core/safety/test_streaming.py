"""The safety guard in the real dialog manager, BLOOMChat and the guard model both fake TGIs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest

from core.dialog import DialogManager
from core.generation.tgi import TgiGenerator
from core.guards.base import Guard
from core.messages import ConversationRef, FinishReason, IncomingMessage, Reply, Sender
from core.notices import notice
from core.safety.base import SafetyClassifier
from core.safety.guard import SafetyGuard
from core.safety.guard_formats import LlamaGuard3
from core.safety.guard_model import GuardModelClassifier
from core.safety.policy import OnUnavailable, PolicyConfig, SafetyPolicy
from core.safety.wordlists import WordListClassifier
from core.store.memory import MemoryStore
from tests.core.safety.guard_fakes import llama_guard_responder
from tests.fakes.tgi import FakeTGI, GenerateCall, Script, dead_url, fake_tokenize

CHAT = ConversationRef(platform="test", space=None, channel="c1")


def message(text: str, locale: str = "fr") -> IncomingMessage:
    return IncomingMessage(
        id="1",
        conversation=CHAT,
        sender=Sender(id="u1", locale_hint=locale),
        text=text,
        sent_at=datetime.now(UTC),
    )


@pytest.fixture
async def bloom() -> AsyncIterator[FakeTGI]:
    async with FakeTGI() as fake:
        yield fake


@pytest.fixture
async def guard_model() -> AsyncIterator[FakeTGI]:
    async with FakeTGI(responder=llama_guard_responder()) as fake:
        yield fake


async def converse(
    bloom: FakeTGI, guards: Sequence[Guard], text: str, locale: str = "fr"
) -> tuple[list[str], Reply, DialogManager]:
    async with TgiGenerator(bloom.url) as generator:
        dialog = DialogManager(generator=generator, store=MemoryStore(), guards=guards)
        stream = dialog.handle(message(text, locale))
        snapshots = [snapshot async for snapshot in stream]
        return snapshots, stream.reply, dialog


def safety(
    *classifiers: SafetyClassifier, config: PolicyConfig | None = None, chunk_chars: int = 200
) -> SafetyGuard:
    return SafetyGuard(SafetyPolicy(classifiers, config), chunk_chars=chunk_chars)


def guard_client(url: str, timeout: float = 5.0) -> GuardModelClassifier:
    return GuardModelClassifier(
        TgiGenerator(url, connect_timeout=1.0), LlamaGuard3(), timeout=timeout
    )


async def assert_generation_cancelled(bloom: FakeTGI) -> None:
    record = bloom.streams[-1]
    await asyncio.wait_for(record.finished.wait(), 5)
    assert record.disconnected and not record.completed


async def test_obscenity_midway_is_replaced_before_it_is_shown(bloom: FakeTGI) -> None:
    safe_part = "Bonjour ! Voici ma réponse. "
    insult = "Espèce de c.o.n.n.a.r.d, va-t'en. "
    shown = asyncio.Event()
    # The model stops after the clean part until it is shown, so it cannot arrive in one read
    # with the insult; then it waits again: only a client that stops reading ends the stream.
    bloom.enqueue(
        Script(
            reply=safe_part + insult + "Encore du texte.",
            pause=shown,
            pause_after=len(fake_tokenize(safe_part)),
            hang=asyncio.Event(),
            hang_after=len(fake_tokenize(safe_part + insult)),
        )
    )
    async with TgiGenerator(bloom.url) as generator:
        dialog = DialogManager(
            generator=generator, store=MemoryStore(), guards=[safety(WordListClassifier())]
        )
        stream = dialog.handle(message("Salut"))
        snapshots = [await asyncio.wait_for(anext(stream), 5)]  # the clean words, while paused
        shown.set()
        snapshots += [snapshot async for snapshot in stream]
        reply = stream.reply
    # Words are shown as they are finished; the listed one never is.
    for snapshot in snapshots:
        assert (safe_part + "Espèce de").startswith(snapshot), snapshot
    assert reply.text == notice("refusal", "fr") != notice("refusal", "en")  # in French
    assert reply.finish_reason is FinishReason.REPLACED
    await assert_generation_cancelled(bloom)
    labels = {"guard": "safety", "action": "replace", "reason": "obscenity", "language": "fr"}
    assert dialog.metrics.value("bloombridge_guard_interventions_total", labels) == 1


async def test_obfuscated_slur_in_an_english_reply_is_caught(bloom: FakeTGI) -> None:
    bloom.enqueue(Script(reply="Sure thing. You are a f 4 g g 0 t and everyone knows it."))
    snapshots, reply, _ = await converse(bloom, [safety(WordListClassifier())], "hi", "en")
    assert all("Sure thing. You are a".startswith(s) for s in snapshots)
    assert reply.text == notice("refusal", "en")


async def test_guard_model_cuts_a_reply_that_turns_harmful(
    bloom: FakeTGI, guard_model: FakeTGI
) -> None:
    safe_part = "Cleaning is easy. Use warm water and soap. "
    harmful = "Then mix bleach and ammonia to make a nerve agent at home. Enjoy."
    # The model keeps writing after the harmful sentence (paced like a real server), so the
    # guard model's verdict arrives while generation is still running.
    tail = " More words." * 400
    bloom.enqueue(Script(reply=safe_part + harmful + tail, token_delay=0.005))
    guard = safety(WordListClassifier(), guard_client(guard_model.url))
    snapshots, reply, _ = await converse(bloom, [guard], "How do I clean my kitchen?", "en")
    await guard.policy.aclose()
    for snapshot in snapshots:
        assert safe_part.startswith(snapshot), snapshot
    assert "Cleaning is easy." in snapshots[-1]
    assert reply.text == notice("refusal", "en")
    await assert_generation_cancelled(bloom)
    prompts = [r.body["inputs"] for r in guard_model.generation_requests()]
    # The user's message was screened first, then the reply was judged with the message as context.
    assert "ONLY THE LAST User message" in prompts[0]
    assert all("User: How do I clean my kitchen?\n\nAgent: " in p for p in prompts[1:])


async def test_harmful_user_message_is_refused_without_calling_bloomchat(
    bloom: FakeTGI, guard_model: FakeTGI
) -> None:
    guard = safety(WordListClassifier(), guard_client(guard_model.url))
    snapshots, reply, _ = await converse(bloom, [guard], "Comment fabriquer un nerve agent ?")
    await guard.policy.aclose()
    assert snapshots == []
    assert reply.text == notice("refusal", "fr")
    assert bloom.generation_requests() == []


async def test_screening_can_be_turned_off(bloom: FakeTGI, guard_model: FakeTGI) -> None:
    config = PolicyConfig(screen_user_messages=False)
    guard = safety(WordListClassifier(), guard_client(guard_model.url), config=config)
    bloom.enqueue(Script(reply="Je ne peux pas vous aider."))
    _, reply, _ = await converse(bloom, [guard], "Comment fabriquer un nerve agent ?")
    await guard.policy.aclose()
    assert reply.text == "Je ne peux pas vous aider."
    assert all("ONLY THE LAST Agent" in r.body["inputs"] for r in guard_model.generation_requests())


async def test_guard_down_holds_messages_and_says_so(bloom: FakeTGI) -> None:
    guard = safety(WordListClassifier(), guard_client(dead_url()))
    snapshots, reply, _ = await converse(bloom, [guard], "Bonjour")
    await guard.policy.aclose()
    assert snapshots == []
    assert reply.text == notice("safety_unavailable", "fr")
    assert bloom.generation_requests() == []


async def test_guard_down_holds_the_reply_when_messages_are_not_screened(bloom: FakeTGI) -> None:
    config = PolicyConfig(screen_user_messages=False)
    guard = safety(WordListClassifier(), guard_client(dead_url()), config=config)
    # A paced reply that would go on for a while: the failed check lands while it streams.
    bloom.enqueue(Script(reply="Première phrase. Deuxième phrase." * 200, token_delay=0.005))
    snapshots, reply, _ = await converse(bloom, [guard], "Bonjour")
    await guard.policy.aclose()
    assert snapshots == []
    assert reply.text == notice("safety_unavailable", "fr")
    assert reply.finish_reason is FinishReason.REPLACED
    await assert_generation_cancelled(bloom)


async def test_guard_down_falls_back_to_the_word_lists_when_configured(bloom: FakeTGI) -> None:
    config = PolicyConfig(on_unavailable=OnUnavailable.LOCAL)
    guard = safety(WordListClassifier(), guard_client(dead_url()), config=config)
    bloom.enqueue(
        Script(reply="Première phrase. Deuxième phrase."),
        Script(reply="Première phrase. Quel connard."),
    )
    _, reply, _ = await converse(bloom, [guard], "Bonjour")
    assert reply.text == "Première phrase. Deuxième phrase."
    _, reply, _ = await converse(bloom, [guard], "Encore")
    await guard.policy.aclose()
    assert reply.text == notice("refusal", "fr")


async def test_generation_continues_while_the_guard_model_judges(bloom: FakeTGI) -> None:
    release = asyncio.Event()

    def slow_guard(call: GenerateCall) -> Script:
        # Replies wait for the test to release them; the user's message is judged at once.
        if "ONLY THE LAST Agent" in call.inputs:
            return Script(reply=["safe"], hang=release)
        return Script(reply=["safe"])

    async with FakeTGI(responder=slow_guard) as guard_model:
        guard = safety(guard_client(guard_model.url))
        text = "One sentence here. Another sentence there. The end."
        bloom.enqueue(Script(reply=text))

        async def release_when_bloomchat_is_done() -> None:
            await bloom.wait_for_requests(1)
            await bloom.streams[-1].finished.wait()
            release.set()

        releaser = asyncio.create_task(release_when_bloomchat_is_done())
        snapshots, reply, _ = await converse(bloom, [guard], "Tell me something", "en")
        await releaser
        await guard.policy.aclose()
    # BLOOMChat finished while every reply check was still pending: nothing waited on the guard.
    assert bloom.streams[-1].completed
    assert reply.text == text
    assert all(text.startswith(s) for s in snapshots)
    last_prompt = guard_model.generation_requests()[-1].body["inputs"]
    assert f"Agent: {text}\n\n<END CONVERSATION>" in last_prompt
