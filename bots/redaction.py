"""Keeping secrets out of logs and error lines: one redaction layer for every handler."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from core.redaction import REDACTED, Redactor

if TYPE_CHECKING:
    from bots.settings import Settings

__all__ = ["REDACTED", "REDACTOR", "RedactingFormatter", "error_line", "redact_logs"]

# The process-wide redactor: settings hand it their secrets as soon as they are read.
REDACTOR = Redactor()

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Libraries that log whole platform payloads (message text, user names) at DEBUG. They are held
# at INFO unless the operator opts in with BLOOMBRIDGE_LOG_MESSAGE_TEXT.
CONTENT_LOGGERS = ("telegram", "slack_bolt", "slack_sdk", "discord", "websockets")


class RedactingFormatter(logging.Formatter):
    """Formats a record as usual, then redacts the whole text, traceback included.

    Redacting the rendered text rather than the record's arguments catches secrets whatever
    library logged them and however they were interpolated.
    """

    def __init__(self, fmt: str | None = LOG_FORMAT, redactor: Redactor = REDACTOR) -> None:
        super().__init__(fmt)
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self._redactor.redact(super().format(record))


def install_logging(level: int = logging.WARNING) -> None:
    """Log to standard error through the redaction layer; content loggers start capped."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(RedactingFormatter(LOG_FORMAT))
    show_message_text(False)


def show_message_text(allowed: bool) -> None:
    """Let the content loggers follow the root level (`allowed`), or hold them at INFO."""
    for name in CONTENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if allowed else logging.INFO)


def apply_log_settings(settings: Settings) -> None:
    """The operator's log level (validated by the settings) and message-text choice."""
    logging.getLogger().setLevel(settings.log_level)
    show_message_text(settings.log_message_text)


def redact_logs(*secrets: str) -> Redactor:
    """Add secret values (a platform's tokens) to the process-wide redaction layer."""
    REDACTOR.remember(*secrets)
    return REDACTOR


def error_line(error: BaseException) -> str:
    """The one line the command prints for an error an operator can fix, secrets redacted."""
    return REDACTOR.redact(f"bloombridge: {error}")
