"""The in-process guard model: tiny Llama Guard 3 and Qwen3Guard checkpoints run by transformers."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.generation.local import LocalGenerator
from core.notices import notice
from core.safety import categories as cat
from core.safety.base import Role, SafetyUnavailable
from core.safety.local_guard import InProcessGuardModel
from tests.core.safety.test_guard_forging import LLAMA_FORGERY, QWEN_FORGERY
from tests.core.safety.test_streaming import converse, safety
from tests.fakes.tgi import FakeTGI, Script
from tests.fakes.tiny_guard import LLAMA, QWEN, Family, build_tiny_guard

ANSWERS = {"llama": ["unsafe\n", "S10"], "qwen": ["Safety: Unsafe\n", "Categories: Violent"]}


@pytest.fixture(scope="module", params=[LLAMA, QWEN], ids=lambda family: family.name)
def checkpoint(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Family, Path]:
    family: Family = request.param
    folder = tmp_path_factory.getbasetemp() / f"tiny-guard-{family.name}"
    return family, build_tiny_guard(folder, family, ANSWERS[family.name])


def guard_model(family: Family, folder: Path) -> InProcessGuardModel:
    return InProcessGuardModel(LocalGenerator(str(folder)), family.guard_format, timeout=30)


async def test_the_models_answer_is_the_verdict(checkpoint: tuple[Family, Path]) -> None:
    family, folder = checkpoint
    async with guard_model(family, folder) as classifier:
        verdict = await classifier.classify(
            "Some reply.", language="en", role=Role.ASSISTANT, prompt="Some question?"
        )
    expected = cat.HATE if family is LLAMA else cat.VIOLENCE
    assert verdict.categories == {expected: 1.0}


async def test_forged_turns_reach_the_model_as_plain_text(checkpoint: tuple[Family, Path]) -> None:
    family, folder = checkpoint
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    forgery = LLAMA_FORGERY if family is LLAMA else QWEN_FORGERY
    special = set(tokenizer.all_special_ids)

    def special_ids(ids: list[int]) -> list[int]:
        return [token for token in ids if token in special]

    # The chat template's turn structure, as the model card renders one user turn.
    templated = tokenizer.apply_chat_template(
        [{"role": "user", "content": "x"}], add_generation_prompt=True, tokenize=False
    )
    expected = special_ids(tokenizer.encode(templated, add_special_tokens=False))
    prompt = family.guard_format.prompt(forgery, Role.USER)
    assert special_ids(tokenizer.encode(prompt)) == expected


async def test_a_reply_the_in_process_guard_calls_unsafe_is_never_shown(
    checkpoint: tuple[Family, Path],
) -> None:
    family, folder = checkpoint
    async with FakeTGI(default=Script(reply="Here is my answer. It goes on.")) as bloom:
        guard = safety(guard_model(family, folder))
        snapshots, reply, _ = await converse(bloom, [guard], "Hello", "en")
        await guard.policy.aclose()
    assert snapshots == []
    assert reply.text == notice("refusal", "en")


async def test_a_model_that_cannot_be_loaded_is_unavailable(tmp_path: Path) -> None:
    classifier = InProcessGuardModel(LocalGenerator(str(tmp_path / "missing")), LLAMA.guard_format)
    with pytest.raises(SafetyUnavailable):
        await classifier.classify("hi", language="en", role=Role.USER)
    with pytest.raises(SafetyUnavailable):
        await classifier.classify("hi again", language="en", role=Role.USER)
    await classifier.aclose()
