"""Redaction of secrets in any text: known secret values, URL credentials and token shapes."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"

# `scheme://user:password@` in any text, also inside a longer line or an unparsable URL.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#@]+@")
# Credentials recognisable by their shape, whoever printed them.
_TOKEN_SHAPES = (
    re.compile(r"(?<![0-9])\d{5,16}:[A-Za-z0-9_-]{30,}"),  # Telegram bot token (also in URLs)
    re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{10,}"),  # Slack bot, user and app-level tokens
    re.compile(r"\bxapp-[A-Za-z0-9-]{10,}"),
    re.compile(r"\b[A-Za-z0-9_-]{24,}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}"),  # Discord bot token
    re.compile(r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/=-]{8,}"),  # an Authorization header value
)
# Shorter values are too likely to occur in ordinary text to be replaced everywhere.
_MIN_SECRET_LENGTH = 4


def without_userinfo(text: str) -> str:
    """`text` with the user name and password of every URL in it replaced."""
    return _USERINFO.sub(rf"\g<scheme>{REDACTED}@", text)


class Redactor:
    """Replaces known secret values, URL credentials and token-shaped strings in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.remember(*secrets)

    def remember(self, *secrets: str) -> None:
        """Add secret values (setting values such as tokens and passwords) to redact from now on."""
        known = set(self._secrets)
        known.update(secret for secret in secrets if len(secret) >= _MIN_SECRET_LENGTH)
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = sorted(known, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` with every secret this redactor knows or recognises replaced by "[redacted]"."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = without_userinfo(text)
        for shape in _TOKEN_SHAPES:
            text = shape.sub(REDACTED, text)
        return text
