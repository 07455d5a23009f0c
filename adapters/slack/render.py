"""The model's Markdown as Slack takes it: standard Markdown with Slack's three escapes.

Slack renders standard Markdown itself in streamed messages (`markdown_text`) and in
`markdown` blocks, so no conversion to mrkdwn is needed: `**bold**` shows bold. What
Slack does read specially is `<...>` (links, `<!here>`, `<@U123>` mentions) and `&`
entities, so `&`, `<` and `>` are sent as `&amp;`, `&lt;` and `&gt;` — the form Slack
itself stores people's messages in, which it shows as the plain characters. Model output
can therefore never form a mention or a link token; mentions written as words (`@here`)
are made inert before this by the shared `adapters.mentions` step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.feedback import encode_vote, is_rated
from adapters.markdown import RenderedMessage
from core.messages import Reply

# Notifications and screen readers show a message's `text` instead of its blocks.
_FALLBACK_TEXT_CHARS = 3000


def escape(text: str) -> str:
    """`text` with Slack's control characters escaped (`&` first, so nothing is escaped twice)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackRenderer:
    """`adapters.markdown.MarkdownRenderer` for Slack: escaped standard Markdown."""

    def render(self, markdown: str) -> RenderedMessage:
        return RenderedMessage(source=markdown, text=escape(markdown))

    def plain(self, markdown: str) -> RenderedMessage:
        # Slack never refuses a message for its Markdown: the plain form is the same text.
        return RenderedMessage(source=markdown, text=escape(markdown), plain=True)


def feedback_blocks(reply: Reply | None) -> list[dict[str, Any]]:
    """The 👍/👎 buttons under a finished model reply (none for commands, refusals, errors)."""
    if reply is None or not is_rated(reply):
        return []
    buttons = [
        {
            "type": "button",
            "action_id": f"feedback_{name}",
            "text": {"type": "plain_text", "text": label, "emoji": True},
            "value": encode_vote(reply.id, value),
        }
        for name, label, value in (("up", "👍", 1), ("down", "👎", -1))
    ]
    return [{"type": "actions", "block_id": "feedback", "elements": buttons}]


def message_fields(message: RenderedMessage, final: Reply | None) -> dict[str, Any]:
    """`text` and `blocks` for chat.postMessage / chat.update: a markdown block, then buttons."""
    blocks: Sequence[Mapping[str, Any]] = [{"type": "markdown", "text": message.text}]
    return {
        "text": message.text[:_FALLBACK_TEXT_CHARS],
        "blocks": [*blocks, *feedback_blocks(final)],
    }
