"""What a chat platform allows a bot: message length and its unit, edit budgets, markdown dialect."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.messages import PlaceKind


class LengthUnit(enum.StrEnum):
    """How a platform counts the length of a message."""

    CODEPOINTS = "codepoints"  # one per Unicode code point (Python's len)
    UTF16 = "utf16"  # UTF-16 code units: characters outside the BMP count twice (Telegram)
    UTF8 = "utf8"  # bytes of the UTF-8 encoding

    def char_units(self, char: str) -> int:
        """Units one code point takes."""
        if self is LengthUnit.UTF16:
            return 2 if ord(char) > 0xFFFF else 1
        if self is LengthUnit.UTF8:
            return len(char.encode("utf-8", "surrogatepass"))
        return 1

    def measure(self, text: str) -> int:
        """Length of `text` counted in this unit."""
        if self is LengthUnit.CODEPOINTS or text.isascii():
            return len(text)
        if self is LengthUnit.UTF16:
            return len(text.encode("utf-16-le", "surrogatepass")) // 2
        return len(text.encode("utf-8", "surrogatepass"))


class MarkdownDialect(enum.StrEnum):
    """How formatted text reaches the platform."""

    PLAIN = "plain"  # no formatting
    TELEGRAM_ENTITIES = "telegram-entities"  # plain text plus MessageEntity offsets
    SLACK_MRKDWN = "slack-mrkdwn"
    SLACK_MARKDOWN = "slack-markdown"  # standard Markdown in Slack streams and markdown blocks
    DISCORD_MARKDOWN = "discord-markdown"


class RateLimitOwner(enum.StrEnum):
    """Who waits out a platform's "too many requests" answers; exactly one of them does."""

    PACER = "pacer"  # the sink raises `adapters.pacer.RateLimited`; the pacer pauses the chat
    LIBRARY = "library"  # the platform library sleeps and retries itself; sinks never raise it


@dataclass(frozen=True)
class Capabilities:
    """Limits one platform puts on a bot; adapters size, split and pace replies by them.

    The rate model has three levels: per chat (intervals are the shortest time between two
    calls that change messages in one chat; private chats and groups differ on most
    platforms), per space (`space_calls_per_second`: a Slack workspace or Discord server,
    None when the platform has no such budget) and per bot (`global_calls_per_second`,
    across all chats). Per-route budgets the platform keeps beyond these are waited out by
    whoever `rate_limits` names.
    """

    platform: str
    max_message_length: int
    length_unit: LengthUnit
    markdown: MarkdownDialect
    private_edit_interval: float
    group_edit_interval: float
    global_calls_per_second: float
    supports_drafts: bool = False  # ephemeral streaming previews (Telegram's sendMessageDraft)
    space_calls_per_second: float | None = None
    rate_limits: RateLimitOwner = RateLimitOwner.PACER
    # False where no text notifies anyone (a terminal): mentions are then shown as written.
    notifies_mentions: bool = True

    def edit_interval_for(self, kind: PlaceKind) -> float:
        """Seconds between two message changes in a place of this kind."""
        return self.edit_interval(private=kind is PlaceKind.PRIVATE)

    def edit_interval(self, *, private: bool) -> float:
        """Seconds between two message changes in one chat of this kind."""
        return self.private_edit_interval if private else self.group_edit_interval

    def measure(self, text: str) -> int:
        """Length of `text` as the platform counts it."""
        return self.length_unit.measure(text)
