"""What the replica pool reports about each replica: latency of its streams and its errors by kind.

The pool calls a `ReplicaObserver` once per stream event (never per token), so metrics stay a
concern of whoever wires the pool (`core.metrics.ReplicaMetrics` in the bots) and the pool
imports no metrics library.
"""

from __future__ import annotations

from typing import Protocol

from core.errors import (
    ConnectTimeout,
    GenerationError,
    ModelError,
    OverloadedError,
    ReplicaUnreachable,
    StreamInterrupted,
    UnhealthyError,
    ValidationError,
)

# Error kind label per error class; the most specific class of an error's MRO decides.
ERROR_KINDS: dict[type[GenerationError], str] = {
    OverloadedError: "overloaded",  # 429, or no first token within the first-token timeout
    UnhealthyError: "unavailable",  # 503 (and 500, 502, 504 from a gateway)
    ReplicaUnreachable: "unreachable",  # refused, reset, or silent before the first token
    ConnectTimeout: "connect_timeout",
    StreamInterrupted: "broken_stream",  # failed after tokens were delivered
    ValidationError: "validation",  # 422
    ModelError: "generation",  # 424, or an event the client cannot read
    GenerationError: "other",
}


def error_kind(error: GenerationError) -> str:
    """The `error` label of `error`: its most specific class listed in `ERROR_KINDS`."""
    for cls in type(error).__mro__:
        kind = ERROR_KINDS.get(cls)
        if kind is not None:
            return kind
    return "other"


class ReplicaObserver(Protocol):
    """Hears what happened to the streams sent to each replica (`replica` is its display URL)."""

    def first_token(self, replica: str, seconds: float) -> None:
        """The replica sent its first token `seconds` after the request was sent to it."""

    def stream_ended(self, replica: str, seconds: float, *, finished: bool) -> None:
        """A stream that had started ended without error after `seconds` in all.

        `finished` is False when the reader stopped it early (a guard cut, a user who left).
        """

    def failed(self, replica: str, kind: str) -> None:
        """A generation request to the replica failed with an error of `kind` (see `ERROR_KINDS`)."""


class NoObserver:
    """The observer of a pool nobody watches."""

    def first_token(self, replica: str, seconds: float) -> None:
        return None

    def stream_ended(self, replica: str, seconds: float, *, finished: bool) -> None:
        return None

    def failed(self, replica: str, kind: str) -> None:
        return None
