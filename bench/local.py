"""Tokens per second of the in-process model, and what its streaming bridge costs over generate().

Run: .venv/bin/python -m bench.local [--tokens 200] [--rounds 9]

Both paths generate the same number of tokens with the same seeded sampling on the tiny BLOOM
test checkpoint (its end-of-sequence token never wins, so every run reaches the limit). The
bridge path is LocalGenerator.stream read to the end: generation thread, incremental decoding,
hand-over to the event loop and stop-text trimming.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from core.generation.base import GenerationParams
from core.generation.local import LocalGenerator
from core.generation.local_bridge import sampling_arguments
from tests.fakes.tiny_bloom import CONTEXT_TOKENS, build_tiny_bloom

PROMPT = "<human>: Hello, how are you today?\n<bot>:"


def direct_generate(loaded: Any, input_ids: list[int], params: GenerationParams) -> float:
    """Seconds for one plain generate() call: no streamer, no thread, no decoding."""
    ids = torch.tensor([input_ids])
    assert params.seed is not None
    torch.manual_seed(params.seed)
    started = time.perf_counter()
    with torch.inference_mode():
        output = loaded.model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=params.max_new_tokens,
            pad_token_id=loaded.tokenizer.pad_token_id,
            **sampling_arguments(params),
        )
    elapsed = time.perf_counter() - started
    assert output.shape[1] - ids.shape[1] == params.max_new_tokens
    return elapsed


async def bridged_generate(generator: LocalGenerator, params: GenerationParams) -> float:
    """Seconds to read one LocalGenerator.stream to its end."""
    before = generator.tokens_generated
    started = time.perf_counter()
    async for _token in generator.stream(PROMPT, params):
        pass
    elapsed = time.perf_counter() - started
    assert generator.tokens_generated - before == params.max_new_tokens
    return elapsed


async def run(tokens: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = build_tiny_bloom(Path(scratch) / "tiny-bloom")
        async with LocalGenerator(str(folder), device="cpu") as generator:
            loaded = generator.loaded
            assert loaded is not None
            input_ids = list(await generator.tokenize(PROMPT))
            tokens = min(tokens, CONTEXT_TOKENS - len(input_ids))
            params = GenerationParams(max_new_tokens=tokens, seed=1, stop=())
            # One warm-up of each path: first calls pay for lazy initialisation.
            direct_generate(loaded, input_ids, params)
            await bridged_generate(generator, params)
            direct: list[float] = []
            bridged: list[float] = []
            for _ in range(rounds):
                direct.append(direct_generate(loaded, input_ids, params))
                bridged.append(await bridged_generate(generator, params))
    print(f"tiny BLOOM (2 layers, hidden 32), {tokens} new tokens, {rounds} rounds of each")
    for label, pick in (("median", statistics.median), ("best", min)):
        direct_s, bridged_s = pick(direct), pick(bridged)
        print(f"  {label}:")
        print(
            f"    generate() directly    {tokens / direct_s:7.0f} tokens/s ({direct_s * 1e3:.1f} ms)"
        )
        print(
            f"    LocalGenerator.stream  {tokens / bridged_s:7.0f} tokens/s ({bridged_s * 1e3:.1f} ms)"
        )
        print(
            f"    bridge / direct time   {bridged_s / direct_s:7.2f}x "
            f"({(bridged_s - direct_s) / tokens * 1e6:+.0f} us per token)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tokens", type=int, default=200, help="new tokens per generation")
    parser.add_argument("--rounds", type=int, default=9, help="timed rounds of each path")
    args = parser.parse_args()
    asyncio.run(run(args.tokens, args.rounds))


if __name__ == "__main__":
    main()
