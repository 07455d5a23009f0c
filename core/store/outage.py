"""Store outages: the dialog carries on without the store, and says so once per outage."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from core.errors import StoreError

T = TypeVar("T")


class StoreOutage:
    """Tracks whether the store is failing; logs when an outage begins and when it ends.

    Each failed call during an outage is counted (`on_failure`) but not logged again, so a store
    that stays down does not write one warning per message.
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        subject: str = "the conversation store",
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self._logger = logger
        self._subject = subject
        self._on_failure = on_failure
        self.down = False

    def failed(self, action: str, error: BaseException) -> None:
        """Note a failed call; the first of an outage is logged as a warning."""
        if self._on_failure is not None:
            self._on_failure(action)
        if self.down:
            self._logger.debug("%s still failing (%s): %s", self._subject, action, error)
            return
        self.down = True
        self._logger.warning(
            "%s failed (%s): %s; answering without it until it recovers",
            self._subject,
            action,
            error,
        )

    def succeeded(self) -> None:
        """Note a successful call; ends an outage, which is logged."""
        if self.down:
            self.down = False
            self._logger.warning("%s answers again", self._subject)

    async def attempt(self, action: str, operation: Awaitable[T], fallback: T) -> T:
        """The result of `operation`, or `fallback` when the store fails it."""
        try:
            result = await operation
        except StoreError as exc:
            self.failed(action, exc)
            return fallback
        self.succeeded()
        return result
