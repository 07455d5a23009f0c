"""Pure translation between console lines and the core message model."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from core.messages import ConversationRef, IncomingMessage, PlaceKind, Sender
from core.prompt import has_visible_text

CONSOLE_PLATFORM = "console"

# What a terminal would act on rather than show: C0 controls but tab and newline (ESC starts
# escape sequences, BEL rings, CR overwrites the line), DEL, C1 controls, and the bidirectional
# embeddings, overrides and isolates that reorder what is shown.
_TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


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
    """The message a typed line stands for, or None for a line with nothing visible on it."""
    text = line.rstrip("\r\n")
    if not has_visible_text(text):
        return None
    return IncomingMessage(
        id=str(number),
        conversation=conversation,
        sender=Sender(id=user, display_name=user, locale_hint=locale_hint),
        text=text.strip(),
        sent_at=now or datetime.now(UTC),
        raw={"line": line},
    )


def terminal_text(text: str) -> str:
    """`text` without the control characters a terminal would obey: only printable text remains.

    Characters are removed one by one, so the text of a prefix is a prefix of the text.
    """
    return _TERMINAL_CONTROLS.sub("", text)
