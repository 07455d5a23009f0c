"""Pure translation between console lines and the core message model."""

from __future__ import annotations

from datetime import UTC, datetime

from core.messages import ConversationRef, IncomingMessage, PlaceKind, Sender

CONSOLE_PLATFORM = "console"


def console_conversation(session: str = "local") -> ConversationRef:
    """The one conversation a console session has."""
    return ConversationRef(
        platform=CONSOLE_PLATFORM, space=None, channel=session, kind=PlaceKind.PRIVATE
    )


def line_to_message(
    line: str,
    *,
    number: int,
    conversation: ConversationRef,
    user: str,
    locale_hint: str | None = None,
    now: datetime | None = None,
) -> IncomingMessage | None:
    """The message a typed line stands for, or None for a blank line."""
    text = line.rstrip("\r\n")
    if not text.strip():
        return None
    return IncomingMessage(
        id=str(number),
        conversation=conversation,
        sender=Sender(id=user, display_name=user, locale_hint=locale_hint),
        text=text.strip(),
        sent_at=now or datetime.now(UTC),
        raw={"line": line},
    )
