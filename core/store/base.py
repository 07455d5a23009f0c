"""The `Store` interface: history, language preference, dedup claims and feedback."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from core.messages import ConversationRef, Turn


class Store(ABC):
    """Per-conversation state; every record is keyed by `ConversationRef.key`."""

    @abstractmethod
    async def history(self, conversation: ConversationRef) -> list[Turn]:
        """Stored turns of the conversation, oldest first."""

    @abstractmethod
    async def append_turn(
        self, conversation: ConversationRef, turn: Turn, *, max_turns: int, ttl_seconds: int
    ) -> None:
        """Add a turn, keep only the newest `max_turns`, and expire the history after `ttl_seconds`."""

    async def conversation_state(
        self, conversation: ConversationRef
    ) -> tuple[str | None, list[Turn]]:
        """The `/lang` setting and the stored turns, read together (one round trip where the
        store is remote): what answering a message needs first."""
        return await self.language(conversation), await self.history(conversation)

    @abstractmethod
    async def clear_history(self, conversation: ConversationRef) -> None:
        """Forget the conversation's turns."""

    @abstractmethod
    async def language(self, conversation: ConversationRef) -> str | None:
        """The conversation's `/lang` setting, or None for automatic."""

    @abstractmethod
    async def set_language(self, conversation: ConversationRef, language: str | None) -> None:
        """Set the conversation's language; None means automatic."""

    @abstractmethod
    async def forget_sender(self, conversation: ConversationRef, sender_id: str) -> None:
        """Delete everything stored about `sender_id` in this conversation (turns, feedback)."""

    @abstractmethod
    async def claim(self, key: str, ttl_seconds: int) -> bool:
        """Claim a dedup key once: True the first time within `ttl_seconds`, False after."""

    @abstractmethod
    async def is_claimed(self, key: str) -> bool:
        """Whether `key` is claimed now (without claiming it)."""

    @abstractmethod
    async def hold_claim(self, key: str, ttl_seconds: int) -> None:
        """Keep the claim `key` for `ttl_seconds` from now, creating it if it has expired.

        Extends an "in progress" claim while its work runs, and turns it into a long "done"
        claim once the work is finished.
        """

    @abstractmethod
    async def save_feedback(
        self, conversation: ConversationRef, reply_id: str, sender_id: str, value: int
    ) -> None:
        """Record a sender's rating of a reply (+1 or -1); a new rating replaces the old one."""

    @abstractmethod
    async def feedback(self, conversation: ConversationRef, reply_id: str) -> dict[str, int]:
        """Ratings of a reply by sender id."""

    async def ping(self) -> None:
        """Check that the store answers; raise StoreError when it does not."""

    async def aclose(self) -> None:
        """Release connections."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
