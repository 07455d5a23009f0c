"""`StreamingBackend`: the one `stream` every backend shares; subclasses only produce raw tokens.

The base owns what every backend must do the same way: stop texts are trimmed by
`core.generation.stops` (never shown, not even in part), and a failure after text was shown
becomes `StreamInterrupted` carrying that text. Before any text, the backend's own error is
raised unchanged, so a pool may retry it on another replica.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator
from contextlib import aclosing

from core.errors import GenerationError, StreamInterrupted
from core.generation.base import GenerationParams, Token
from core.generation.stops import trim_stop_text


def broken_stream(
    error: GenerationError, partial_text: str, replica: str | None
) -> StreamInterrupted:
    """The error for a stream that failed after `partial_text` was shown to the user."""
    if isinstance(error, StreamInterrupted):
        return error
    return StreamInterrupted(
        f"the reply broke off: {error}", partial_text=partial_text, replica=replica
    )


class DeliveredText:
    """The text a stream has delivered so far, for the error that reports it if the stream breaks.

    Kept as a few strings rather than one per token: a long reply in flight holds about its
    text, not a string object (and a list slot) for each token.
    """

    _JOIN_EVERY = 64

    def __init__(self) -> None:
        self._parts: list[str] = []

    def __bool__(self) -> bool:
        return any(self._parts)

    def add(self, text: str) -> None:
        parts = self._parts
        parts.append(text)
        if len(parts) >= self._JOIN_EVERY:
            parts[:] = ["".join(parts)]

    def text(self) -> str:
        return "".join(self._parts)


class StreamingBackend(ABC):
    """Base of every `TextGenerator`: owns the public `stream`, subclasses move the bytes."""

    @property
    def replica_name(self) -> str | None:
        """What errors name as the replica (a URL without credentials), None for in-process."""
        return None

    @abstractmethod
    def _raw_tokens(self, prompt: str, params: GenerationParams) -> AsyncGenerator[Token, None]:
        """Every token the model sends, special ones and stop texts included.

        The last token carries the finish reason. Failures are raised as `GenerationError`s;
        closing the generator early must stop the generation.
        """

    async def stream(self, prompt: str, params: GenerationParams) -> AsyncGenerator[Token, None]:
        """Visible tokens of the reply; the last one carries the finish reason.

        A failure after text was yielded raises `StreamInterrupted` with that text; before any
        text, the backend's specific error (retryable ones may be retried elsewhere).
        """
        delivered = DeliveredText()
        try:
            async with aclosing(
                trim_stop_text(self._raw_tokens(prompt, params), params.stop)
            ) as tokens:
                async for token in tokens:
                    if token.text:
                        delivered.add(token.text)
                    yield token
        except GenerationError as exc:
            if not delivered:
                raise
            raise broken_stream(exc, delivered.text(), self.replica_name) from exc
