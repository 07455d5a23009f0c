"""The seam that picks the language of each reply; `core.language` provides the full policy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.messages import IncomingMessage, Turn

UNDETERMINED = "und"


class LanguagePolicy(Protocol):
    """Chooses the BLOOM language code a reply must be written in ("und" when unknown)."""

    async def choose(
        self, message: IncomingMessage, history: Sequence[Turn], preference: str | None
    ) -> str: ...

    def is_supported(self, code: str) -> bool:
        """Whether `/lang code` names a language the bot can enforce."""
        ...

    def language_name(self, code: str) -> str:
        """The language's name as its speakers write it (for notices), or the code itself."""
        ...


class PreferenceOrLocale:
    """Minimal policy: the `/lang` setting, else the previous turn's language, else the locale hint."""

    async def choose(
        self, message: IncomingMessage, history: Sequence[Turn], preference: str | None
    ) -> str:
        if preference:
            return preference
        for turn in reversed(history):
            if turn.language != UNDETERMINED:
                return turn.language
        hint = message.sender.locale_hint
        return hint.split("-")[0].lower() if hint else UNDETERMINED

    def is_supported(self, code: str) -> bool:
        return code.isalpha() and 2 <= len(code) <= 3

    def language_name(self, code: str) -> str:
        return code
