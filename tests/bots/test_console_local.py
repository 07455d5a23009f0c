"""`bloombridge chat` without a cluster: the console pipeline on the in-process tiny BLOOM model."""

from __future__ import annotations

import io
import json
from importlib import resources
from pathlib import Path

import huggingface_hub.constants
import pytest

from bots.console_bot import chat
from bots.doctor import check_local_backend
from bots.settings import Settings
from core.notices import notice
from tests.bots.cli_process import cli_environment, run_cli
from tests.fakes.tiny_bloom import tiny_bloom

__all__ = ["tiny_bloom"]

# The tiny model reads 256 tokens: leave room for history and the reply.
REPLY_TOKENS = 48
FAILURE_NOTICES = ("too_long", "model_error", "unavailable", "interrupted")


@pytest.fixture(autouse=True)
def no_hub_traffic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def notice_opening(key: str) -> str:
    """The English notice's text up to its first placeholder."""
    catalog = json.loads(resources.files("core").joinpath("data/notices/en.json").read_text())
    template: str = catalog[key]
    return template.split("{")[0]


def local_settings(model: str) -> Settings:
    return Settings(tgi_urls=[], local_model=model, max_new_tokens=REPLY_TOKENS)


async def test_conversation_longer_than_the_context_is_answered_turn_after_turn(
    tiny_bloom: Path,
) -> None:
    question = "Where is the library, and how are you today? The quick brown fox jumps. "
    messages = [f"Message {n}: {question * 4}" for n in range(4)]
    progress = io.StringIO()
    output = io.StringIO()
    await chat(
        local_settings(str(tiny_bloom)),
        input_stream=io.StringIO("\n".join([*messages, "/reset"]) + "\n"),
        output_stream=output,
        progress_stream=progress,
    )
    text = output.getvalue()
    # Four exchanges of ~100 tokens overflow 256 tokens: history is trimmed, never refused.
    assert text.endswith(notice("reset_done", "en") + "\n")
    assert text.strip() != notice("reset_done", "en")
    for key in FAILURE_NOTICES:
        assert notice_opening(key) not in text, key
    assert progress.getvalue().splitlines() == [
        f"Loading {tiny_bloom} into memory",
        f"{tiny_bloom} is ready",
    ]


async def test_bloombridge_chat_runs_on_the_local_model(tiny_bloom: Path) -> None:
    env = cli_environment(local_model=str(tiny_bloom), max_new_tokens=str(REPLY_TOKENS))
    result = await run_cli("chat", stdin="hello\n/reset\n", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(notice("reset_done", "en") + "\n")
    assert f"{tiny_bloom} is ready" in result.stderr


async def test_bloombridge_chat_without_model_says_what_to_do(tmp_path: Path) -> None:
    env = cli_environment(HF_HUB_CACHE=str(tmp_path / "empty-cache"))
    result = await run_cli("chat", stdin="hello\n", env=env)
    assert result.returncode != 0
    assert result.stdout == ""
    # One sentence, no traceback, no log noise around it.
    assert result.stderr.splitlines() == [
        "bloombridge: Cannot load the local model 'bigscience/bloomz-560m': it is not downloaded "
        "yet and cannot be downloaded now (no network or offline); set BLOOMBRIDGE_TGI_URLS to "
        "use a TGI cluster, or point BLOOMBRIDGE_LOCAL_MODEL at a local copy of the model."
    ]


async def test_doctor_tells_whether_the_local_model_can_be_loaded(
    tiny_bloom: Path, tmp_path: Path
) -> None:
    ready = check_local_backend(str(tiny_bloom))
    not_a_model = check_local_backend(str(tmp_path))
    missing = check_local_backend("bloombridge/not-downloaded")
    assert ready.ok and "local model folder" in ready.detail
    assert not not_a_model.ok and "no config.json" in not_a_model.detail
    assert missing.ok and "not downloaded yet" in missing.detail
