"""What a chat platform allows a bot: message length and its unit, edit budgets, markdown dialect."""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
    DISCORD_MARKDOWN = "discord-markdown"


@dataclass(frozen=True)
class Capabilities:
    """Limits one platform puts on a bot; adapters size, split and pace replies by them.

    Intervals are the shortest time between two calls that change messages in one chat
    (private chats and groups differ on most platforms); `global_calls_per_second` is the
    budget across all chats of one bot.
    """

    platform: str
    max_message_length: int
    length_unit: LengthUnit
    markdown: MarkdownDialect
    private_edit_interval: float
    group_edit_interval: float
    global_calls_per_second: float
    supports_drafts: bool = False  # ephemeral streaming previews (Telegram's sendMessageDraft)

    def edit_interval(self, *, private: bool) -> float:
        """Seconds between two message changes in one chat of this kind."""
        return self.private_edit_interval if private else self.group_edit_interval

    def measure(self, text: str) -> int:
        """Length of `text` as the platform counts it."""
        return self.length_unit.measure(text)
