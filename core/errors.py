"""The bloombridge exception tree; third-party errors are translated into it at the boundary.

BloombridgeError
├── ConfigurationError       settings are missing or contradictory
│   └── ModelLoadError       the in-process model cannot be loaded (says what to configure instead)
├── PromptTooLongError       the newest message alone does not fit the model's input budget
├── StoreError               the conversation store failed
├── PlatformError            a chat platform refused or failed a call
└── GenerationError          the model backend failed (carries the replica URL when known)
    ├── ValidationError      422: the server rejected the request's parameters
    ├── ModelError           424: generation failed inside the model server
    ├── OverloadedError      429: the replica is at capacity (retryable)
    ├── UnhealthyError       503: the replica is not ready (retryable)
    ├── ReplicaUnreachable   connection refused, reset or timed out before any token (retryable)
    │   └── ConnectTimeout   no connection within the connect timeout (backed off, not a fault)
    ├── StreamInterrupted    the stream broke after tokens were delivered (carries the partial text)
    ├── NoReplicaAvailable   every replica is backed off, out of service or failed this request
    └── ReplyDeferred        every replica is busy and the message waits in the queue (workers)
"""

from __future__ import annotations


class BloombridgeError(Exception):
    """Root of every error bloombridge raises on purpose."""


class ConfigurationError(BloombridgeError):
    """Settings are missing, malformed or contradictory."""


class ModelLoadError(ConfigurationError):
    """The in-process model cannot be loaded; the message is one sentence saying what to do."""


class StoreError(BloombridgeError):
    """The conversation store could not complete an operation."""


class PlatformError(BloombridgeError):
    """A chat platform refused or failed an API call."""


class PromptTooLongError(BloombridgeError):
    """The newest message alone exceeds the model's input budget.

    `excess_tokens` is how many tokens it must lose; `limit_tokens` is what a message may use.
    """

    def __init__(self, message: str, *, excess_tokens: int, limit_tokens: int) -> None:
        super().__init__(message)
        self.excess_tokens = excess_tokens
        self.limit_tokens = limit_tokens


class GenerationError(BloombridgeError):
    """The model backend failed; `retryable` says whether another replica may succeed."""

    retryable: bool = False

    def __init__(self, message: str, *, replica: str | None = None) -> None:
        super().__init__(message)
        self.replica = replica


class ValidationError(GenerationError):
    """HTTP 422: the request's inputs or parameters were rejected."""


class ModelError(GenerationError):
    """HTTP 424: generation failed inside the model server."""


class OverloadedError(GenerationError):
    """HTTP 429: the replica is at capacity."""

    retryable = True


class UnhealthyError(GenerationError):
    """HTTP 503: the replica is not ready to serve."""

    retryable = True


class ReplicaUnreachable(GenerationError):
    """The replica could not be reached, or went silent before the first token."""

    retryable = True


class ConnectTimeout(ReplicaUnreachable):
    """The replica did not accept a connection in time: busy or unreachable, not known dead."""


class StreamInterrupted(GenerationError):
    """The stream broke after some tokens were already delivered.

    `delivered_chars` is how much text they held. The caller already has that text (it was
    yielded to it), so the error counts it rather than keeping another copy of a long reply.
    """

    def __init__(
        self, message: str, *, delivered_chars: int = 0, replica: str | None = None
    ) -> None:
        super().__init__(message, replica=replica)
        self.delivered_chars = delivered_chars


class NoReplicaAvailable(GenerationError):
    """No replica could take the request: all are backed off, out of service or failed it.

    `busy` is True when replicas are at capacity (the user may retry soon), False when they
    are down (the model is unavailable).
    """

    retryable = True

    def __init__(self, message: str, *, busy: bool = False, replica: str | None = None) -> None:
        super().__init__(message, replica=replica)
        self.busy = busy


class ReplyDeferred(GenerationError):
    """Every replica is at capacity and nothing was shown: the message is answered later.

    Raised instead of the "overloaded" notice when the dialog runs in a queue worker
    (`DialogConfig.defer_when_busy`): the message stays in its stream and is tried again.
    """

    retryable = True
