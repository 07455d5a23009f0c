"""The `TextGenerator` protocol every backend implements, and the values it exchanges."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# BLOOMChat's turn marker: the model starting a new human turn means its answer is over.
HUMAN_STOP = "<human>:"


@dataclass(frozen=True)
class GenerationParams:
    """Sampling settings; the defaults are BLOOMChat's suggested ones."""

    max_new_tokens: int = 512
    temperature: float = 0.8
    top_p: float = 0.9
    repetition_penalty: float = 1.2
    stop: tuple[str, ...] = (HUMAN_STOP,)
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class Token:
    """One piece of generated text; the last token of a stream carries `finish_reason`.

    `finish_reason` is "length", "eos_token" or "stop_sequence" (TGI's names) on the final token.
    """

    text: str
    id: int | None = None
    special: bool = False
    finish_reason: str | None = None


@dataclass(frozen=True)
class ModelInfo:
    """What the server tells about its limits: the prompt budget is computed from these.

    `max_concurrent_requests` is how many requests the server takes at once (TGI answers 429
    beyond it); None when the server does not say.
    """

    model_id: str
    max_input_tokens: int
    max_total_tokens: int
    max_concurrent_requests: int | None = None


@runtime_checkable
class TextGenerator(Protocol):
    """A model backend: stream tokens for a prompt, report limits, count tokens.

    `stream` returns an async generator; closing it before the end must stop generation
    on the server. Stop sequences never appear in the streamed text. Errors are raised as
    `core.errors.GenerationError` subclasses.
    """

    def stream(self, prompt: str, params: GenerationParams) -> AsyncGenerator[Token, None]: ...

    async def info(self) -> ModelInfo: ...

    async def tokenize(self, text: str) -> Sequence[int] | None:
        """Token ids of `text`, or None when the backend cannot tokenize (callers estimate)."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ReportsHealth(Protocol):
    """A backend whose server can say whether it is ready to serve (TGI's `/health`)."""

    async def health(self) -> bool:
        """True when the server (for a pool: at least one replica) answers healthy now."""
        ...
