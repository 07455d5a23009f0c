"""The guard-model classifier: Llama Guard 3 or Qwen3Guard behind any `TextGenerator` endpoint.

The guard model is served like BLOOMChat (a TGI server, or an OpenAI-compatible completions
server); the prompt is rendered here (`core.safety.guard_formats`) and decoded greedily.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing

from core.errors import GenerationError
from core.generation.base import GenerationParams, TextGenerator
from core.safety.base import Role, SafetyClassifier, SafetyUnavailable, SafetyVerdict
from core.safety.guard_formats import GuardFormat, UnreadableAnswer


class GuardModelClassifier(SafetyClassifier):
    """Asks a guard model about a text; owns (and closes) the generator it is given.

    `timeout` bounds one whole verdict. Only the last `max_chars` of a text are sent: while a
    reply streams, its earlier part was judged by earlier calls.
    """

    def __init__(
        self,
        generator: TextGenerator,
        guard_format: GuardFormat,
        *,
        timeout: float = 10.0,
        max_chars: int = 8000,
        name: str | None = None,
    ) -> None:
        self.generator = generator
        self.format = guard_format
        self.timeout = timeout
        self.max_chars = max_chars
        self.name = name or guard_format.name
        self._params = GenerationParams(
            max_new_tokens=guard_format.max_new_tokens,
            temperature=0.0,  # greedy: the verdict must not depend on sampling
            top_p=1.0,
            repetition_penalty=1.0,
            stop=(),
        )

    async def classify(
        self, text: str, *, language: str, role: Role, prompt: str = ""
    ) -> SafetyVerdict:
        request = self.format.prompt(text[-self.max_chars :], role, prompt[-self.max_chars :])
        try:
            async with asyncio.timeout(self.timeout):
                answer = await self._complete(request)
        except TimeoutError as exc:
            raise SafetyUnavailable(
                f"{self.name}: no verdict within {self.timeout:g}s", classifier=self.name
            ) from exc
        except GenerationError as exc:
            raise SafetyUnavailable(f"{self.name}: {exc}", classifier=self.name) from exc
        try:
            return SafetyVerdict(self.name, self.format.parse(answer))
        except UnreadableAnswer as exc:
            raise SafetyUnavailable(f"{self.name}: {exc}", classifier=self.name) from exc

    async def _complete(self, request: str) -> str:
        pieces: list[str] = []
        async with aclosing(self.generator.stream(request, self._params)) as tokens:
            async for token in tokens:
                if not token.special:
                    pieces.append(token.text)
        return "".join(pieces)

    async def aclose(self) -> None:
        await self.generator.aclose()
