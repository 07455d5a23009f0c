"""Discord renders the model's Markdown itself: a message is its Markdown, trimmed."""

from __future__ import annotations

from adapters.markdown import RenderedMessage


class DiscordRenderer:
    """Passes Markdown through; Discord shows a half-written fence or `**` as plain text."""

    def render(self, markdown: str) -> RenderedMessage:
        return RenderedMessage(source=markdown, text=markdown.strip())

    def plain(self, markdown: str) -> RenderedMessage:
        return RenderedMessage(source=markdown, text=markdown.strip(), plain=True)
