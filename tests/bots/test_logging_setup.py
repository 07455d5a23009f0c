"""The log redaction layer: every line a handler writes is redacted, whoever logged it."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bots.redaction import CONTENT_LOGGERS, RedactingFormatter, redact_logs, show_message_text
from core.redaction import REDACTED

TOKEN = "987654:AAH-secret-token-value"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter())  # what `install_logging` puts on every handler
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def test_secrets_never_reach_a_log_line_not_even_in_a_traceback(log_output: io.StringIO) -> None:
    redact_logs(TOKEN)  # what `bloombridge run` does with a platform's secrets
    logger = logging.getLogger("telegram.ext.test")
    logger.warning("POST https://api.telegram.org/bot%s/getMe failed", TOKEN)
    try:
        raise RuntimeError(f"connect to https://api.telegram.org/bot{TOKEN}/getUpdates")
    except RuntimeError:
        logger.exception("polling failed")
    logging.getLogger("httpx").warning("HTTP Request: GET http://guard:pw-1234@guard:80/health")
    output = log_output.getvalue()
    assert TOKEN not in output and "pw-1234" not in output
    assert output.count(REDACTED) >= 3
    assert "RuntimeError" in output


def test_content_loggers_stay_at_info_unless_the_operator_opts_in() -> None:
    try:
        show_message_text(False)
        assert all(
            not logging.getLogger(name).isEnabledFor(logging.DEBUG) for name in CONTENT_LOGGERS
        )
        show_message_text(True)
        assert all(logging.getLogger(name).level == logging.NOTSET for name in CONTENT_LOGGERS)
    finally:
        show_message_text(False)
