"""Keeping secrets out of logs: a filter on every root handler that replaces their values."""

from __future__ import annotations

import logging

REDACTED = "[redacted]"


class SecretRedactor(logging.Filter):
    """Replaces secrets in every record a handler emits (the token is part of Bot API URLs)."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = self._clean(message), None
        if record.exc_info:
            record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def redact_logs(*secrets: str) -> SecretRedactor:
    """Install a redactor on every root handler; HTTP request lines are not logged at all."""
    redactor = SecretRedactor(*secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    # httpx logs each request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return redactor
