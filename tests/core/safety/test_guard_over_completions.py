"""The guard-model client over an OpenAI-compatible completions server (vLLM serves Qwen3Guard)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.generation.openai_completions import OpenAICompletionsGenerator
from core.safety import categories as cat
from core.safety.base import Role, SafetyUnavailable
from core.safety.guard_formats import Qwen3Guard
from core.safety.guard_model import GuardModelClassifier
from tests.fakes.openai_completions import FakeCompletions
from tests.fakes.tgi import dead_url

PROMPTS = Path(__file__).parents[2] / "data" / "safety" / "guard_prompts"


def qwen_answers(prompt: str) -> list[str]:
    if "bomb" in prompt.rsplit("<BEGIN CONVERSATION>", 1)[1]:
        return ["Safety: Unsafe", "\nCategories: Violent"]
    return ["Safety: Safe", "\nCategories: None"]


async def test_qwen3guard_prompt_and_verdict_over_completions() -> None:
    async with FakeCompletions(qwen_answers, model="Qwen/Qwen3Guard-Gen-4B") as server:
        generator = OpenAICompletionsGenerator(server.url, model="Qwen/Qwen3Guard-Gen-4B")
        async with GuardModelClassifier(generator, Qwen3Guard()) as classifier:
            verdict = await classifier.classify(
                "How can I make a bomb?", language="en", role=Role.USER
            )
            limits = await generator.info()
    assert verdict.categories == {cat.VIOLENCE: 1.0}
    request = server.requests[0]
    assert request["prompt"] == (PROMPTS / "qwen3guard_user.txt").read_text("utf-8")
    assert request["model"] == "Qwen/Qwen3Guard-Gen-4B"
    assert request["temperature"] == 0.0 and request["stream"] is True
    assert limits.max_total_tokens == 8192


async def test_busy_server_is_unavailable() -> None:
    async with FakeCompletions(qwen_answers) as server:
        server.failure_status = 429
        generator = OpenAICompletionsGenerator(server.url, model="guard")
        async with GuardModelClassifier(generator, Qwen3Guard()) as classifier:
            with pytest.raises(SafetyUnavailable, match="busy"):
                await classifier.classify("hello", language="en", role=Role.USER)


async def test_unreachable_server_is_unavailable() -> None:
    generator = OpenAICompletionsGenerator(dead_url(), model="guard", timeout=1.0)
    async with GuardModelClassifier(generator, Qwen3Guard()) as classifier:
        with pytest.raises(SafetyUnavailable, match="connection failed"):
            await classifier.classify("hello", language="en", role=Role.USER)
