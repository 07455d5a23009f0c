"""Incoming messages for the fault tests: one sender in one conversation."""

from __future__ import annotations

from datetime import UTC, datetime

from core.messages import ConversationRef, IncomingMessage, Sender

CHAT = ConversationRef(platform="test", space=None, channel="faults")


def message(text: str, number: int = 1) -> IncomingMessage:
    """A message from Alice (English locale) in CHAT."""
    return IncomingMessage(
        id=str(number),
        conversation=CHAT,
        sender=Sender(id="alice", display_name="Alice", locale_hint="en"),
        text=text,
        sent_at=datetime.now(UTC),
    )
