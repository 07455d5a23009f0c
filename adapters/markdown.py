"""Rendering the model's Markdown into platform messages that fit the platform's length limit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.capabilities import Capabilities
from adapters.splitting import split_markdown

# How many times a part whose rendering outgrew the limit is split tighter before it is sent plain.
_MAX_REFITS = 3


@dataclass(frozen=True)
class RenderedMessage:
    """One message ready for a platform: the text it receives and the Markdown it came from.

    `entities` carries formatting as offset records for dialects that use them (Telegram);
    other dialects put their markup in `text` and leave it empty.
    """

    source: str
    text: str
    entities: tuple[Mapping[str, Any], ...] = field(default=(), compare=False)
    plain: bool = False


class MarkdownRenderer(Protocol):
    """Turns Markdown into one platform message; implementations never raise on odd input."""

    def render(self, markdown: str) -> RenderedMessage:
        """The formatted message; partial Markdown (an open fence or bold marker) must work."""
        ...

    def plain(self, markdown: str) -> RenderedMessage:
        """The message as unformatted text, for when the platform rejects the formatted one."""
        ...


def layout_messages(
    markdown: str, capabilities: Capabilities, renderer: MarkdownRenderer
) -> list[RenderedMessage]:
    """`markdown` rendered as messages that each fit the platform's limit, in reading order."""
    limit = capabilities.max_message_length
    unit = capabilities.length_unit
    messages: list[RenderedMessage] = []
    for part in split_markdown(markdown, limit, unit):
        messages.extend(_fit(part, capabilities, renderer, limit, _MAX_REFITS))
    return messages


def _fit(
    part: str,
    capabilities: Capabilities,
    renderer: MarkdownRenderer,
    budget: int,
    refits_left: int,
) -> list[RenderedMessage]:
    """Render a part; when rendering made it longer than the limit, split it tighter."""
    limit = capabilities.max_message_length
    rendered = renderer.render(part)
    length = capabilities.measure(rendered.text)
    if not rendered.text.strip():
        # Markup with nothing visible (an empty code block): show the source instead.
        fallback = renderer.plain(part)
        return [fallback] if fallback.text.strip() else []
    if length <= limit:
        return [rendered]
    tighter = budget - (length - limit)
    if refits_left == 0 or tighter < limit // 4:
        # The source of a part always fits, so plain text is the safe last resort.
        return [
            renderer.plain(piece) for piece in split_markdown(part, limit, capabilities.length_unit)
        ]
    return [
        message
        for piece in split_markdown(part, tighter, capabilities.length_unit)
        for message in _fit(piece, capabilities, renderer, tighter, refits_left - 1)
    ]


class PassthroughRenderer:
    """For platforms that render standard Markdown themselves: the message text is the Markdown."""

    def render(self, markdown: str) -> RenderedMessage:
        return RenderedMessage(source=markdown, text=markdown.strip())

    def plain(self, markdown: str) -> RenderedMessage:
        return RenderedMessage(source=markdown, text=markdown.strip(), plain=True)
