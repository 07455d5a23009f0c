"""The fake Slack's record of a bot message, and what a user sees of it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Slack notifies for these tokens in message text: special mentions, users, user groups.
_PING = re.compile(r"<(!channel|!here|!everyone|@[UW][A-Z0-9]+|!subteam\^[A-Z0-9]+)(?:\|[^>]*)?>")


def visible_text(markup: str) -> str:
    """The text Slack shows for markup it received: its three escapes decoded."""
    return markup.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass
class SlackMessage:
    """A message the bot sent, as the channel shows it now."""

    channel: str
    ts: str
    thread_ts: str | None
    markup: str  # Markdown as Slack received it (escaped); the visible text is decoded from it
    blocks: list[dict[str, Any]]  # Block Kit blocks besides the text (feedback buttons)
    streaming: bool = False
    streamed: bool = False  # it was created by chat.startStream
    deleted: bool = False
    recipient: tuple[str, str] | None = None

    @property
    def text(self) -> str:
        return visible_text(self.markup)

    def pings(self) -> list[str]:
        """The mentions Slack would notify for: `<!here>`, `<!channel>`, `<@U…>` and the like."""
        return [match.group(1) for match in _PING.finditer(self.markup)]

    def action_values(self) -> list[tuple[str, str, str]]:
        """(label, action_id, value) of every button under the message."""
        found = []
        for block in self.blocks:
            for element in block.get("elements", ()):
                if element.get("type") == "button":
                    label = element.get("text", {}).get("text", "")
                    found.append((label, element["action_id"], element.get("value", "")))
        return found
