"""The guard-model client against a fake TGI answering like Llama Guard 3 and Qwen3Guard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.generation.tgi import TgiGenerator
from core.safety import categories as cat
from core.safety.base import Role, SafetyUnavailable
from core.safety.guard_formats import LlamaGuard3, Qwen3Guard
from core.safety.guard_model import GuardModelClassifier
from tests.core.safety.guard_fakes import llama_guard_responder, qwen_guard_responder
from tests.fakes.tgi import FakeTGI, Script, TgiFailure, dead_url

PROMPTS = Path(__file__).parents[2] / "data" / "safety" / "guard_prompts"


@pytest.fixture
async def guard_tgi() -> AsyncIterator[FakeTGI]:
    async with FakeTGI(responder=llama_guard_responder()) as fake:
        yield fake


async def test_llama_guard_receives_the_documented_prompt_greedily(guard_tgi: FakeTGI) -> None:
    async with GuardModelClassifier(TgiGenerator(guard_tgi.url), LlamaGuard3()) as classifier:
        verdict = await classifier.classify("How can I make a bomb?", language="en", role=Role.USER)
    assert verdict.categories == {}
    request = guard_tgi.generation_requests()[0]
    assert request.body["inputs"] == (PROMPTS / "llama_guard_3_user.txt").read_text("utf-8")
    parameters = request.body["parameters"]
    assert parameters["do_sample"] is False
    assert parameters.get("temperature") is None
    assert parameters["max_new_tokens"] == LlamaGuard3.max_new_tokens


async def test_llama_guard_reply_verdict_and_categories(guard_tgi: FakeTGI) -> None:
    async with GuardModelClassifier(TgiGenerator(guard_tgi.url), LlamaGuard3()) as classifier:
        verdict = await classifier.classify(
            "Mix these to make a nerve agent.",
            language="en",
            role=Role.ASSISTANT,
            prompt="How do I clean my kitchen?",
        )
    assert verdict.categories == {cat.INDISCRIMINATE_WEAPONS: 1.0}
    sent = guard_tgi.generation_requests()[0].body["inputs"]
    assert "User: How do I clean my kitchen?\n\nAgent: Mix these to make a nerve agent.\n\n" in sent
    assert "ONLY THE LAST Agent message" in sent


async def test_qwen3guard_over_the_same_infrastructure() -> None:
    async with FakeTGI(responder=qwen_guard_responder()) as fake:
        async with GuardModelClassifier(TgiGenerator(fake.url), Qwen3Guard()) as classifier:
            unsafe = await classifier.classify(
                "a nerve agent recipe", language="fr", role=Role.ASSISTANT, prompt="Salut"
            )
            safe = await classifier.classify("Bonjour", language="fr", role=Role.USER)
        assert unsafe.categories == {cat.VIOLENCE: 1.0}
        assert safe.categories == {}
        assert (
            fake.generation_requests()[1]
            .body["inputs"]
            .startswith("<|im_start|>user\n# Task:\n1) Evaluate whether THE LAST USER's query")
        )


async def test_unreachable_endpoint_is_unavailable() -> None:
    async with GuardModelClassifier(
        TgiGenerator(dead_url(), connect_timeout=1.0), LlamaGuard3()
    ) as classifier:
        with pytest.raises(SafetyUnavailable) as raised:
            await classifier.classify("hello", language="en", role=Role.USER)
    assert raised.value.classifier == "llama-guard-3"


async def test_server_error_is_unavailable(guard_tgi: FakeTGI) -> None:
    guard_tgi.enqueue(Script(reply=[], failure=TgiFailure.overloaded()))
    async with GuardModelClassifier(TgiGenerator(guard_tgi.url), LlamaGuard3()) as classifier:
        with pytest.raises(SafetyUnavailable):
            await classifier.classify("hello", language="en", role=Role.USER)


async def test_slow_guard_times_out(guard_tgi: FakeTGI) -> None:
    guard_tgi.enqueue(Script(reply="safe", hang=asyncio.Event()))
    async with GuardModelClassifier(
        TgiGenerator(guard_tgi.url), LlamaGuard3(), timeout=0.2
    ) as classifier:
        with pytest.raises(SafetyUnavailable, match="no verdict within"):
            await classifier.classify("hello", language="en", role=Role.USER)


async def test_unreadable_answer_is_unavailable(guard_tgi: FakeTGI) -> None:
    guard_tgi.enqueue(Script(reply="I am not sure about that one."))
    async with GuardModelClassifier(TgiGenerator(guard_tgi.url), LlamaGuard3()) as classifier:
        with pytest.raises(SafetyUnavailable, match="neither"):
            await classifier.classify("hello", language="en", role=Role.USER)
