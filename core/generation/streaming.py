"""`StreamingBackend`: the one `stream` every backend shares; subclasses only produce raw tokens.

The base owns what every backend must do the same way: stop texts are trimmed by
`core.generation.stops` (never shown, not even in part), and a failure after text was shown
becomes `StreamInterrupted` counting that text. Before any text, the backend's own error is
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
    error: GenerationError, delivered_chars: int, replica: str | None
) -> StreamInterrupted:
    """The error for a stream that failed after `delivered_chars` of text were shown."""
    if isinstance(error, StreamInterrupted):
        return error
    return StreamInterrupted(
        f"the reply broke off: {error}", delivered_chars=delivered_chars, replica=replica
    )


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
        delivered = 0  # characters yielded: a count, the caller keeps the text itself
        try:
            async with aclosing(
                trim_stop_text(self._raw_tokens(prompt, params), params.stop)
            ) as tokens:
                async for token in tokens:
                    delivered += len(token.text)
                    yield token
        except GenerationError as exc:
            if not delivered:
                raise
            raise broken_stream(exc, delivered, self.replica_name) from exc
