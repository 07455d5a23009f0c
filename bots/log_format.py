"""How log lines look: text for people at a terminal, one JSON object per line for collectors.

Both formats pass through the redaction layer (`bots.redaction`): secrets never reach a line.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

from bots.redaction import REDACTOR, RedactingFormatter
from core.log_context import current_ids

LogFormat = Literal["text", "json"]


class RedactingJsonFormatter(JsonFormatter):
    """One JSON object per record (time, level, logger, message), then redacted whole.

    A line written while a message is handled also carries its ids (`core.log_context`):
    platform, conversation, message_id, and event_id (intake) or queue_entry (queue worker).
    """

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        for name, value in current_ids().items():
            log_data.setdefault(name, value)

    def format(self, record: logging.LogRecord) -> str:
        return REDACTOR.redact(super().format(record))


_FORMATTERS: dict[str, type[logging.Formatter]] = {
    "text": RedactingFormatter,
    "json": RedactingJsonFormatter,
}


def apply_log_format(log_format: LogFormat) -> None:
    """Give every root handler the (redacting) formatter of `log_format`."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(_FORMATTERS[log_format]())
