"""Health of one replica: consecutive failures, jittered backoff, and being out of service.

A replica is judged by what it says, not by how long we queued: a busy answer (429, or a first
token slower than allowed) only backs it off; faults that mean it cannot serve (connection
refused, 5xx/503, a stream that broke) count towards taking it out of service.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from tenacity import AsyncRetrying, RetryCallState, wait_exponential

from core.errors import (
    ConnectTimeout,
    GenerationError,
    ReplicaUnreachable,
    StreamInterrupted,
    UnhealthyError,
)


class ReplicaState(enum.StrEnum):
    """Whether a replica takes requests now."""

    HEALTHY = "healthy"
    BACKED_OFF = "backed_off"  # failed recently; skipped until its backoff ends
    OUT_OF_SERVICE = "out_of_service"  # failed too often in a row; back only after a health probe


class JitteredBackoff:
    """Exponentially growing delays (tenacity's `wait_exponential`) with "equal jitter".

    The n-th consecutive failure waits between half and all of `initial * 2**(n-1)` (capped at
    `maximum`), so replicas that failed together do not all come back at the same moment. The
    random source is injected so tests can pin it.
    """

    def __init__(
        self, initial: float = 0.5, maximum: float = 30.0, rng: random.Random | None = None
    ) -> None:
        self._ceiling = wait_exponential(multiplier=initial, max=maximum)
        self._rng = rng or random.Random()

    def delay(self, failures: int) -> float:
        state = RetryCallState(AsyncRetrying(), None, (), {})
        state.attempt_number = max(1, failures)
        ceiling = self._ceiling(state)
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)


def is_fault(error: BaseException) -> bool:
    """Whether `error` says the replica cannot serve (rather than being busy or refusing input)."""
    if isinstance(error, ConnectTimeout):
        return False  # a replica slow to accept (full backlog, loaded host) is not known dead
    return isinstance(error, UnhealthyError | ReplicaUnreachable | StreamInterrupted)


@dataclass
class ReplicaHealth:
    """Failure bookkeeping for one replica, against an injected clock.

    `failures` counts every failure in a row (it grows the backoff); `faults` counts only those
    that mean the replica cannot serve, and `max_failures` of them take it out of service.
    `busy` says the last failure was the replica being at capacity.
    """

    max_failures: int
    backoff: JitteredBackoff
    clock: Callable[[], float]
    failures: int = 0
    faults: int = 0
    backed_off_until: float = 0.0
    out_of_service: bool = False
    busy: bool = False
    last_error: str | None = field(default=None)

    @property
    def state(self) -> ReplicaState:
        if self.out_of_service:
            return ReplicaState.OUT_OF_SERVICE
        if self.retry_in > 0:
            return ReplicaState.BACKED_OFF
        return ReplicaState.HEALTHY

    @property
    def retry_in(self) -> float:
        """Seconds until a backed-off replica may be tried again (0 when it may now)."""
        return max(0.0, self.backed_off_until - self.clock())

    def failed(self, error: GenerationError) -> None:
        """One more failure in a row: back off, or go out of service after `max_failures` faults."""
        self.failures += 1
        self.last_error = f"{type(error).__name__}: {error}"
        self.busy = not is_fault(error)
        if not self.busy:
            self.faults += 1
        if self.faults >= self.max_failures:
            self.out_of_service = True
        else:
            self.backed_off_until = self.clock() + self.backoff.delay(self.failures)

    def succeeded(self) -> None:
        self.failures = 0
        self.faults = 0
        self.busy = False
        self.backed_off_until = 0.0

    def restored(self) -> None:
        """A health probe passed: the replica takes requests again."""
        self.out_of_service = False
        self.succeeded()
