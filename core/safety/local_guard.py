"""The guard model in this process: Llama Guard 3 1B or Qwen3Guard-Gen 0.6B through transformers.

For the embedded setup, where no guard server runs: the model is loaded (downloaded on first
use, or read from a folder) by the same `LocalGenerator` that runs BLOOM locally, prompted with
the same model-card prompt the remote client sends (`core.safety.guard_formats`: the text the
model's chat template renders, special tokens included, which the tokenizer reads as such) and
decoded greedily. Needs the `local` extra.
"""

from __future__ import annotations

import asyncio

from core.errors import ModelLoadError
from core.generation.local import LocalGenerator
from core.safety.base import Role, SafetyUnavailable, SafetyVerdict
from core.safety.guard_formats import GuardFormat
from core.safety.guard_model import GuardModelClassifier

# Suggested checkpoints, small enough for a laptop CPU.
LLAMA_GUARD_3_1B = "meta-llama/Llama-Guard-3-1B"
QWEN3GUARD_GEN_0_6B = "Qwen/Qwen3Guard-Gen-0.6B"


class InProcessGuardModel(GuardModelClassifier):
    """A `GuardModelClassifier` over a `LocalGenerator`, loaded on first use (or by `load`).

    Loading is not part of a verdict's `timeout`; a model that cannot be loaded makes every
    verdict unavailable, so the policy holds replies or falls back as configured.
    """

    def __init__(
        self,
        generator: LocalGenerator,
        guard_format: GuardFormat,
        *,
        timeout: float = 60.0,
        max_chars: int = 8000,
    ) -> None:
        super().__init__(
            generator,
            guard_format,
            timeout=timeout,
            max_chars=max_chars,
            name=f"{guard_format.name}-in-process",
        )
        self.local = generator
        self._loading = asyncio.Lock()
        self._load_error: ModelLoadError | None = None

    async def load(self) -> None:
        """Load the model now; raises `SafetyUnavailable` when it cannot be had."""
        async with self._loading:
            if self._load_error is None:
                try:
                    await self.local.start()
                except ModelLoadError as exc:
                    self._load_error = exc
            if self._load_error is not None:
                raise SafetyUnavailable(
                    f"{self.name}: {self._load_error}", classifier=self.name
                ) from self._load_error

    async def classify(
        self, text: str, *, language: str, role: Role, prompt: str = ""
    ) -> SafetyVerdict:
        await self.load()
        return await super().classify(text, language=language, role=role, prompt=prompt)
