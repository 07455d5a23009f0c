"""Guard-model prompts match the model cards' templates; every documented answer is parsed."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.safety import categories as cat
from core.safety.base import Role
from core.safety.guard_formats import CONTROVERSIAL_SCORE, LlamaGuard3, Qwen3Guard, UnreadableAnswer

PROMPTS = Path(__file__).parents[2] / "data" / "safety" / "guard_prompts"


def expected(name: str) -> str:
    return (PROMPTS / name).read_text(encoding="utf-8")


def test_llama_guard_prompt_for_a_user_message() -> None:
    prompt = LlamaGuard3().prompt("How can I make a bomb?", Role.USER)
    assert prompt == expected("llama_guard_3_user.txt")


def test_llama_guard_prompt_for_a_reply_includes_the_user_turn() -> None:
    prompt = LlamaGuard3().prompt(
        "I cannot help with that.  ", Role.ASSISTANT, "  How can I make a bomb?"
    )
    assert prompt == expected("llama_guard_3_agent.txt")


def test_llama_guard_1b_lists_thirteen_categories() -> None:
    prompt = LlamaGuard3(with_code_interpreter=False).prompt("hi", Role.USER)
    assert "S13: Elections.\n<END UNSAFE CONTENT CATEGORIES>" in prompt
    assert "S14" not in prompt


def test_qwen3guard_prompt_for_a_user_message() -> None:
    assert Qwen3Guard().prompt("How can I make a bomb?", Role.USER) == expected(
        "qwen3guard_user.txt"
    )


def test_qwen3guard_prompt_for_a_reply() -> None:
    reply = (
        "As a responsible artificial intelligence system, I regret that I am unable to fulfill "
        "your request."
    )
    prompt = Qwen3Guard().prompt(reply, Role.ASSISTANT, "How can I make a bomb?")
    assert prompt == expected("qwen3guard_assistant.txt")


@pytest.mark.parametrize(
    ("answer", "found"),
    [
        ("\n\nsafe", {}),
        ("safe", {}),
        ("\n\nsafe<|eot_id|>", {}),
        ("\n\nunsafe\nS1", {cat.VIOLENT_CRIMES: 1.0}),
        ("unsafe\nS10,S12", {cat.HATE: 1.0, cat.SEXUAL_CONTENT: 1.0}),
        ("unsafe\nS2, S14", {cat.NON_VIOLENT_CRIMES: 1.0, cat.CODE_INTERPRETER_ABUSE: 1.0}),
        ("unsafe", {cat.UNKNOWN: 1.0}),
        ("unsafe\nS99", {cat.UNKNOWN: 1.0}),
    ],
)
def test_llama_guard_answers(answer: str, found: dict[str, float]) -> None:
    assert LlamaGuard3().parse(answer) == found


def test_every_llama_guard_code_has_a_category() -> None:
    for number in range(1, 15):
        parsed = LlamaGuard3().parse(f"unsafe\nS{number}")
        assert set(parsed) <= cat.ALL_CATEGORIES - {cat.UNKNOWN}


@pytest.mark.parametrize("answer", ["", "maybe", "I think this is fine"])
def test_llama_guard_unreadable_answers(answer: str) -> None:
    with pytest.raises(UnreadableAnswer):
        LlamaGuard3().parse(answer)


@pytest.mark.parametrize(
    ("answer", "found"),
    [
        ("Safety: Safe\nCategories: None", {}),
        ("Safety: Safe\nCategories: None\nRefusal: Yes", {}),
        ("Safety: Unsafe\nCategories: Violent", {cat.VIOLENCE: 1.0}),
        (
            "Safety: Unsafe\nCategories: Non-violent Illegal Acts, PII\nRefusal: No",
            {cat.NON_VIOLENT_CRIMES: 1.0, cat.PRIVACY: 1.0},
        ),
        ("Safety: Unsafe\nCategories: Jailbreak", {cat.JAILBREAK: 1.0}),
        (
            "Safety: Controversial\nCategories: Politically Sensitive Topics",
            {cat.POLITICALLY_SENSITIVE: CONTROVERSIAL_SCORE},
        ),
        (
            "Safety: Unsafe\nCategories: Sexual Content or Sexual Acts, Suicide & Self-Harm, "
            "Unethical Acts, Copyright Violation",
            {
                cat.SEXUAL_CONTENT: 1.0,
                cat.SELF_HARM: 1.0,
                cat.UNETHICAL_ACTS: 1.0,
                cat.INTELLECTUAL_PROPERTY: 1.0,
            },
        ),
        ("Safety: Unsafe\nCategories: None", {cat.UNKNOWN: 1.0}),
    ],
)
def test_qwen3guard_answers(answer: str, found: dict[str, float]) -> None:
    assert Qwen3Guard().parse(answer) == found


def test_qwen3guard_refusal_line() -> None:
    assert Qwen3Guard.refusal("Safety: Safe\nCategories: None\nRefusal: Yes") is True
    assert Qwen3Guard.refusal("Safety: Unsafe\nCategories: Violent\nRefusal: No") is False
    assert Qwen3Guard.refusal("Safety: Safe\nCategories: None") is None


def test_qwen3guard_unreadable_answer() -> None:
    with pytest.raises(UnreadableAnswer):
        Qwen3Guard().parse("Unsafe, violent")
