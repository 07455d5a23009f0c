"""What every platform adapter shares: the handler it calls and the adapter base class."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Protocol

from core.errors import ConfigurationError
from core.messages import ConversationRef, IncomingMessage, ReplyStream


class ChatHandler(Protocol):
    """The core as an adapter sees it (implemented by `core.dialog.DialogManager`)."""

    def handle(self, message: IncomingMessage) -> ReplyStream:
        """Answer a message; iterate the stream to get snapshots and the final reply."""
        ...

    async def claim_event(
        self, platform: str, event_id: str, *, hold_seconds: int | None = None
    ) -> bool:
        """True the first time a platform event id is claimed (dedup of platform retries).

        `hold_seconds` keeps the claim only that long ("in progress": if the process dies,
        a redelivery after it expires is answered); None claims it as done for the full
        dedup period.
        """
        ...

    async def is_claimed(self, platform: str, event_id: str) -> bool:
        """Whether a key is claimed now, without claiming it (what an adapter remembers)."""
        ...

    async def hold_event(
        self, platform: str, event_id: str, *, hold_seconds: int | None = None
    ) -> None:
        """Extend an event's claim by `hold_seconds`, or (None) mark the event done."""
        ...

    async def record_feedback(
        self, conversation: ConversationRef, reply_id: str, sender_id: str, value: int
    ) -> None:
        """Store a user's rating (+1 / -1) of a reply."""
        ...


class Adapter(ABC):
    """A platform connection: receives events, calls the handler, renders replies.

    Use it as an async context manager (connect, then close) and `run()` until cancelled.
    """

    platform: str = "platform"

    def __init__(self, handler: ChatHandler) -> None:
        self.handler = handler

    @property
    @abstractmethod
    def connected(self) -> bool:
        """Whether the platform connection is up now (for health and readiness checks)."""

    async def start(self) -> None:
        """Connect to the platform (no I/O happens in the constructor)."""

    async def start_sending(self) -> None:
        """Worker role: connect for sending replies only (no events are received); then `stop`."""
        raise ConfigurationError(f"{self.platform} has no send-only mode for queue workers")

    async def stop(self) -> None:
        """Disconnect and release resources."""

    @abstractmethod
    async def run(self) -> None:
        """Process events until cancelled or the input ends."""

    async def __aenter__(self) -> Adapter:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
