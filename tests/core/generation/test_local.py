"""LocalGenerator on a tiny BLOOM checkpoint: streaming, stops, cancellation, limits, load failures."""

from __future__ import annotations

import asyncio
import shutil
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import huggingface_hub.constants
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from core.errors import ModelLoadError, ValidationError
from core.generation.base import GenerationParams, Token
from core.generation.local import LocalGenerator, describe_progress
from core.generation.local_bridge import sampling_arguments
from core.generation.local_loading import LoadProgress, _DownloadMeter
from core.messages import Turn
from core.prompt import PromptBuilder
from tests.fakes.hub import FakeHub
from tests.fakes.tiny_bloom import (
    CONTEXT_TOKENS,
    tiny_bloom,
    tiny_bloom_ending_at_once,
)

__all__ = ["tiny_bloom", "tiny_bloom_ending_at_once"]

PROMPT = "<human>: Hello, how are you today?\n<bot>:"


@pytest.fixture(autouse=True)
def no_hub_traffic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a test does, the hub client stays offline (as HF_HUB_OFFLINE=1 would make it)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


@pytest.fixture
async def local(tiny_bloom: Path) -> AsyncIterator[LocalGenerator]:
    async with LocalGenerator(str(tiny_bloom)) as generator:
        yield generator


async def collect(generator: LocalGenerator, prompt: str, params: GenerationParams) -> list[Token]:
    return [token async for token in generator.stream(prompt, params)]


def generate_directly(folder: Path, prompt: str, params: GenerationParams) -> str:
    """What transformers' own generate() writes for the same prompt, seed and sampling."""
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    input_ids = torch.tensor([tokenizer.encode(prompt)])
    assert params.seed is not None
    torch.manual_seed(params.seed)
    output = model.generate(
        input_ids=input_ids,
        attention_mask=torch.ones_like(input_ids),
        max_new_tokens=params.max_new_tokens,
        pad_token_id=tokenizer.pad_token_id,
        **sampling_arguments(params),
    )
    text = tokenizer.decode(output[0, input_ids.shape[1] :], skip_special_tokens=True)
    assert isinstance(text, str)
    return text


async def test_streamed_text_is_what_generate_writes(
    local: LocalGenerator, tiny_bloom: Path
) -> None:
    params = GenerationParams(max_new_tokens=40, seed=11, stop=())
    tokens = await collect(local, PROMPT, params)
    assert len(tokens) > 5, "tokens arrive one by one, not as one block"
    assert all(token.finish_reason is None for token in tokens[:-1])
    assert tokens[-1].finish_reason == "length"
    assert "".join(token.text for token in tokens) == generate_directly(tiny_bloom, PROMPT, params)
    assert local.tokens_generated == 40


async def test_stop_text_is_trimmed_and_ends_generation(local: LocalGenerator) -> None:
    free = GenerationParams(max_new_tokens=60, seed=5, stop=())
    full = "".join(token.text for token in await collect(local, PROMPT, free))
    stop = full[20:24]
    at = full.find(stop)
    before = local.tokens_generated

    stopped = GenerationParams(max_new_tokens=60, seed=5, stop=(stop,))
    tokens = await collect(local, PROMPT, stopped)

    assert "".join(token.text for token in tokens) == full[:at]
    assert tokens[-1].finish_reason == "stop_sequence"
    assert local.tokens_generated - before < 60, "generation stopped at the stop text"


async def test_end_of_sequence_ends_the_stream(tiny_bloom_ending_at_once: Path) -> None:
    async with LocalGenerator(str(tiny_bloom_ending_at_once)) as generator:
        tokens = await collect(generator, PROMPT, GenerationParams(max_new_tokens=50, seed=1))
    assert [(token.text, token.finish_reason) for token in tokens] == [("", "eos_token")]


async def test_closing_the_stream_stops_generation(local: LocalGenerator) -> None:
    room = CONTEXT_TOKENS - len(await local.tokenize(PROMPT))
    stream = local.stream(PROMPT, GenerationParams(max_new_tokens=room, seed=3, stop=()))
    received = 0
    async for _token in stream:
        received += 1
        if received == 3:
            break
    await stream.aclose()

    # aclose() returned after generate() did (its count is in), long before the token limit.
    assert 3 <= local.tokens_generated < room


async def test_cancelling_the_reading_task_stops_generation(local: LocalGenerator) -> None:
    room = CONTEXT_TOKENS - len(await local.tokenize(PROMPT))
    first_token = asyncio.Event()

    async def read() -> None:
        async for _token in local.stream(PROMPT, GenerationParams(max_new_tokens=room, stop=())):
            first_token.set()

    reader = asyncio.create_task(read())
    await first_token.wait()
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert 0 < local.tokens_generated < room


async def test_generations_run_one_after_another(local: LocalGenerator) -> None:
    params = GenerationParams(max_new_tokens=20, seed=2, stop=())
    first, second = await asyncio.gather(
        collect(local, PROMPT, params), collect(local, PROMPT, params)
    )
    assert "".join(t.text for t in first) == "".join(t.text for t in second)
    assert local.tokens_generated == 40


async def test_parameters_the_model_refuses_raise_validation_error(local: LocalGenerator) -> None:
    with pytest.raises(ValidationError, match="penalty"):
        await collect(local, PROMPT, GenerationParams(max_new_tokens=8, repetition_penalty=-1.0))
    tokens = await collect(local, PROMPT, GenerationParams(max_new_tokens=4, seed=1))
    assert tokens[-1].finish_reason == "length", "the generator still works afterwards"


async def test_limits_and_token_ids_come_from_the_model(
    local: LocalGenerator, tiny_bloom: Path
) -> None:
    info = await local.info()
    assert (info.max_input_tokens, info.max_total_tokens) == (CONTEXT_TOKENS - 1, CONTEXT_TOKENS)
    assert info.model_id == str(tiny_bloom)
    tokenizer = AutoTokenizer.from_pretrained(tiny_bloom)
    assert list(await local.tokenize(PROMPT)) == tokenizer.encode(PROMPT)


async def test_prompt_budget_is_trimmed_to_the_models_context(local: LocalGenerator) -> None:
    params = GenerationParams(max_new_tokens=64, seed=4)
    history = [
        Turn(
            user_text=f"Question {n}: where is the library, and how are you today?",
            reply_text=f"Answer {n}: the library is near the square; I am well, thank you.",
            sender_id="u1",
        )
        for n in range(30)
    ]
    builder = PromptBuilder(local)
    prompt = await builder.build(history, "Bonjour, comment allez-vous ?", params)

    budget = CONTEXT_TOKENS - params.max_new_tokens
    assert 0 < len(prompt.kept_turns) < len(history)
    assert prompt.kept_turns == tuple(history[-len(prompt.kept_turns) :])
    assert len(await local.tokenize(prompt.text)) <= budget
    tokens = await collect(local, prompt.text, params)
    assert tokens[-1].finish_reason == "length"


async def test_prompt_longer_than_the_context_is_refused(local: LocalGenerator) -> None:
    too_long = "<human>: " + "the quick brown fox " * 200 + "\n<bot>:"
    with pytest.raises(ValidationError, match="reads at most"):
        await collect(local, too_long, GenerationParams(max_new_tokens=8))


async def test_reply_is_capped_by_the_room_left_in_the_context(local: LocalGenerator) -> None:
    room = CONTEXT_TOKENS - len(await local.tokenize(PROMPT))
    tokens = await collect(local, PROMPT, GenerationParams(max_new_tokens=10_000, seed=8))
    assert tokens[-1].finish_reason == "length"
    assert local.tokens_generated == room


def hub_cache_with(folder: Path, cache: Path, repo_id: str) -> None:
    """Lay `folder` out as the hub client caches a downloaded model."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    shutil.copytree(folder, repo / "snapshots" / commit)


async def test_hub_model_loads_from_the_local_cache_with_progress(
    tiny_bloom: Path, tmp_path: Path
) -> None:
    hub_cache_with(tiny_bloom, tmp_path, "bloombridge/tiny-bloom")
    seen: list[tuple[LoadProgress, bool]] = []
    loop_thread = threading.current_thread()

    def on_progress(progress: LoadProgress) -> None:
        seen.append((progress, threading.current_thread() is loop_thread))

    generator = LocalGenerator(
        "bloombridge/tiny-bloom", cache_dir=tmp_path, on_progress=on_progress
    )
    async with generator:
        tokens = await collect(generator, PROMPT, GenerationParams(max_new_tokens=5, seed=1))
    assert tokens[-1].finish_reason == "length"
    assert [progress.stage for progress, _ in seen] == ["load", "ready"]
    assert all(on_loop for _, on_loop in seen), "callbacks run on the event loop"


async def test_first_use_downloads_safetensors_with_progress(
    tiny_bloom: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(tiny_bloom, repo)
    # A repository that also has pickled weights: only the safetensors ones are fetched.
    (repo / "pytorch_model.bin").write_bytes(b"pickled weights are never downloaded")
    cache = tmp_path / "cache"
    seen: list[LoadProgress] = []
    async with FakeHub("bloombridge/tiny-bloom", repo, chunk_size=4096) as hub:
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
        generator = LocalGenerator(
            "bloombridge/tiny-bloom", cache_dir=cache, hub_endpoint=hub.url, on_progress=seen.append
        )
        async with generator:
            await asyncio.sleep(0)  # let the last progress callback run
            tokens = await collect(generator, PROMPT, GenerationParams(max_new_tokens=5, seed=1))
    assert tokens[-1].finish_reason == "length"
    assert "pytorch_model.bin" not in hub.fetched and "model.safetensors" in hub.fetched
    fetched_bytes = sum((repo / name).stat().st_size for name in hub.fetched)
    downloads = [p for p in seen if p.stage == "download"]
    assert downloads and downloads[-1].done_bytes == downloads[-1].total_bytes == fetched_bytes
    assert [p.stage for p in seen[len(downloads) :]] == ["load", "ready"]

    # A second start needs no hub at all: the model is in the cache.
    async with LocalGenerator("bloombridge/tiny-bloom", cache_dir=cache, offline=True) as again:
        assert (await again.info()).max_total_tokens == CONTEXT_TOKENS


async def test_unknown_hub_model_is_explained(
    tiny_bloom: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeHub("bloombridge/tiny-bloom", tiny_bloom) as hub:
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
        generator = LocalGenerator(
            "bloombridge/no-such-model", cache_dir=tmp_path, hub_endpoint=hub.url
        )
        with pytest.raises(ModelLoadError, match="no such model on the Hugging Face Hub"):
            await generator.start()


async def test_model_neither_cached_nor_downloadable_is_one_clear_sentence(
    tmp_path: Path,
) -> None:
    generator = LocalGenerator("bigscience/bloomz-560m", cache_dir=tmp_path)
    with pytest.raises(ModelLoadError) as caught:
        await generator.start()
    message = str(caught.value)
    assert "not downloaded yet" in message
    assert "BLOOMBRIDGE_TGI_URLS" in message and "BLOOMBRIDGE_LOCAL_MODEL" in message
    assert "\n" not in message and message.count(". ") == 0 and message.endswith(".")


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ("./no-such-folder", "there is no such folder"),
        ("{folder}", "is not a model folder"),
        ("not a model!", "neither a folder nor a Hugging Face model id"),
    ],
)
async def test_a_path_that_is_not_a_model_is_explained(
    tmp_path: Path, model: str, reason: str
) -> None:
    (tmp_path / "notes.txt").write_text("not weights")
    generator = LocalGenerator(model.format(folder=tmp_path), cache_dir=tmp_path, offline=True)
    with pytest.raises(ModelLoadError, match=reason):
        await generator.start()


async def test_unreadable_weights_are_explained(tiny_bloom: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_bloom, broken)
    (broken / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelLoadError, match=r"could not be loaded|not a causal language model"):
        await LocalGenerator(str(broken)).start()


async def test_missing_local_extra_is_explained(
    tiny_bloom: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ModelLoadError, match=r"pip install 'bloombridge\[local\]'"):
        await LocalGenerator(str(tiny_bloom)).start()


async def test_streaming_before_start_is_an_error(tiny_bloom: Path) -> None:
    generator = LocalGenerator(str(tiny_bloom))
    with pytest.raises(Exception, match="not loaded"):
        await generator.info()


def test_download_progress_adds_up_the_hub_byte_bars() -> None:
    seen: list[LoadProgress] = []
    meter = _DownloadMeter("bigscience/bloomz-560m", seen.append)
    bar_class = meter.bar_class()
    with bar_class(total=2_000_000, unit="B", mininterval=0) as received:
        received.update(500_000)
        received.update(1_500_000)
    with bar_class(total=3, desc="Fetching 3 files") as files:
        files.update(3)
    assert seen[-1] == LoadProgress("download", "bigscience/bloomz-560m", 2_000_000, 2_000_000)
    assert all(p.total_bytes == 2_000_000 for p in seen), "file-count bars are not bytes"
    assert [p.done_bytes for p in seen] == sorted(p.done_bytes for p in seen)


def test_progress_lines_for_a_console() -> None:
    # One line per tenth of the download: 50 MB and 60 MB add nothing to the first line.
    lines: list[str] = []
    report = describe_progress(lines.append)
    model = "bigscience/bloomz-560m"
    for done in (0, 50_000_000, 60_000_000, 560_000_000, 1_120_000_000):
        report(LoadProgress("download", model, done, 1_120_000_000))
    report(LoadProgress("load", model))
    report(LoadProgress("ready", model))
    assert lines == [
        f"Downloading {model}: 0 B of 1.1 GB (0%)",
        f"Downloading {model}: 560.0 MB of 1.1 GB (50%)",
        f"Downloading {model}: 1.1 GB of 1.1 GB (100%)",
        f"Loading {model} into memory",
        f"{model} is ready",
    ]
