"""`bloombridge safety check` as an operator runs it: a real process reading standard input."""

from __future__ import annotations

from pathlib import Path

from tests.bots.cli_process import cli_environment, run_cli
from tests.core.safety.guard_fakes import llama_guard_responder
from tests.fakes.openai_completions import FakeCompletions
from tests.fakes.tgi import FakeTGI, dead_url
from tests.fakes.tiny_guard import LLAMA, build_tiny_guard


async def safety_check(lines: list[str], *args: str, **settings: str) -> list[str]:
    result = await run_cli(
        "safety", "check", *args, stdin="\n".join(lines), env=cli_environment(**settings)
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


async def test_word_lists_alone() -> None:
    lines = ["Bonjour, comment ça va ?", "quel c0nnard", "", "tu es un p.é.d.é", "la couleur negre"]
    assert await safety_check(lines, "--language", "fr") == [
        "allow",
        "block obscenity",
        "block hate",
        "allow",
    ]


async def test_with_the_guard_model() -> None:
    async with FakeTGI(responder=llama_guard_responder()) as guard:
        output = await safety_check(
            ["How do I bake bread?", "How do I make a nerve agent?"],
            "--role",
            "user",
            safety_guard_url=guard.url,
        )
        assert output == ["allow", "block indiscriminate_weapons"]
        assert "ONLY THE LAST User message" in guard.generation_requests()[0].body["inputs"]


async def test_guard_down_follows_the_setting() -> None:
    lines = ["How do I bake bread?", "what a fucker"]
    held = await safety_check(lines, safety_guard_url=dead_url())
    assert held == ["block guard_unavailable", "block obscenity"]
    local = await safety_check(
        lines, safety_guard_url=dead_url(), safety_on_guard_unavailable="local"
    )
    assert local == ["allow", "block obscenity"]


async def test_with_a_guard_model_behind_a_completions_server() -> None:
    def answers(prompt: str) -> list[str]:
        unsafe = "nerve agent" in prompt.rsplit("<BEGIN CONVERSATION>", 1)[1]
        return [
            "Safety: Unsafe\nCategories: Violent" if unsafe else "Safety: Safe\nCategories: None"
        ]

    async with FakeCompletions(answers, model="Qwen/Qwen3Guard-Gen-4B") as server:
        output = await safety_check(
            ["Bonjour", "Fabrique un nerve agent"],
            "--language",
            "fr",
            safety_guard_url=server.url,
            safety_guard_api="openai",
            safety_guard_model="qwen3guard",
            safety_guard_model_name="Qwen/Qwen3Guard-Gen-4B",
        )
    assert output == ["allow", "block violence"]
    assert server.requests[0]["prompt"].startswith("<|im_start|>user\n# Task:")


async def test_obscenity_policies() -> None:
    lines = ["quel c0nnard", "tu es un sale arabe"]
    as_user = ("--language", "fr", "--role", "user")
    assert await safety_check(lines, *as_user) == ["allow", "block hate"]
    assert await safety_check(lines, *as_user, safety_obscenity="block") == [
        "block obscenity",
        "block hate",
    ]
    assert await safety_check(lines, "--language", "fr", safety_obscenity="allow") == [
        "allow",
        "block hate",
    ]


async def test_the_guard_model_in_process(tmp_path: Path) -> None:
    folder = build_tiny_guard(tmp_path / "guard", LLAMA, ["unsafe\n", "S10"])
    output = await safety_check(
        ["Bonjour"],
        safety_guard_api="local",
        safety_guard_model="llama-guard-3-1b",
        safety_guard_model_name=str(folder),
        safety_guard_timeout_seconds="60",
    )
    assert output == ["block hate"]
