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
from core.safety.chunks import judging_windows
from core.safety.guard_formats import GuardFormat, UnreadableAnswer

# Characters two consecutive windows of a long text share, so nothing is judged only in halves.
WINDOW_OVERLAP = 400


class GuardModelClassifier(SafetyClassifier):
    """Asks a guard model about a text; owns (and closes) the generator it is given.

    `timeout` bounds one whole verdict. A text longer than `max_chars` is judged whole, in
    overlapping windows of at most `max_chars` asked at once; the verdict joins theirs (a
    category any window found, at its highest score). The user's message a reply answers is
    given as its last `max_chars` characters: it was judged whole when it arrived.
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
        context = prompt[-self.max_chars :]
        windows = judging_windows(text, self.max_chars, min(WINDOW_OVERLAP, self.max_chars // 4))
        requests = [self.format.prompt(window, role, context) for window in windows]
        try:
            async with asyncio.timeout(self.timeout):
                answers = await asyncio.gather(*(self._complete(r) for r in requests))
        except TimeoutError as exc:
            raise SafetyUnavailable(
                f"{self.name}: no verdict within {self.timeout:g}s", classifier=self.name
            ) from exc
        except GenerationError as exc:
            raise SafetyUnavailable(f"{self.name}: {exc}", classifier=self.name) from exc
        found: dict[str, float] = {}
        for answer in answers:
            try:
                categories = self.format.parse(answer)
            except UnreadableAnswer as exc:
                raise SafetyUnavailable(f"{self.name}: {exc}", classifier=self.name) from exc
            for category, score in categories.items():
                found[category] = max(score, found.get(category, 0.0))
        return SafetyVerdict(self.name, found)

    async def _complete(self, request: str) -> str:
        pieces: list[str] = []
        async with aclosing(self.generator.stream(request, self._params)) as tokens:
            async for token in tokens:
                if not token.special:
                    pieces.append(token.text)
        return "".join(pieces)

    async def aclose(self) -> None:
        await self.generator.aclose()
