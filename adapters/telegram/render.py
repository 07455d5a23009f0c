"""Markdown to Telegram text plus MessageEntity records, by telegramify-markdown."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import telegramify_markdown

from adapters.capabilities import LengthUnit
from adapters.markdown import RenderedMessage

logger = logging.getLogger(__name__)


def _clip(entity: Mapping[str, Any], shift: int, length: int) -> dict[str, Any] | None:
    """The entity moved back by `shift` units and cut to a text of `length` UTF-16 units.

    None when nothing of it remains.
    """
    offset = max(int(entity["offset"]) - shift, 0)
    end = min(int(entity["offset"]) + int(entity["length"]) - shift, length)
    if end <= offset:
        return None
    return {**entity, "offset": offset, "length": end - offset}


class TelegramRenderer:
    """Renders Markdown as entities, so partial text (an open fence, a lone `**`) never fails.

    Entities need no escaping, unlike MarkdownV2, so a cut anywhere in the text still parses.
    """

    def render(self, markdown: str) -> RenderedMessage:
        try:
            text, entities = telegramify_markdown.convert(markdown)
        except Exception as exc:  # a converter bug must not lose the reply: send it plain
            logger.warning("markdown conversion failed, sending plain text: %r", exc)
            return self.plain(markdown)
        # Telegram trims surrounding whitespace; entities must stay within the trimmed text.
        stripped = text.strip()
        shift = LengthUnit.UTF16.measure(text[: len(text) - len(text.lstrip())])
        length = LengthUnit.UTF16.measure(stripped)
        text = stripped
        clipped = [_clip(entity.to_dict(), shift, length) for entity in entities]
        return RenderedMessage(
            source=markdown,
            text=text,
            entities=tuple(entity for entity in clipped if entity is not None),
        )

    def plain(self, markdown: str) -> RenderedMessage:
        return RenderedMessage(source=markdown, text=markdown.strip(), plain=True)
