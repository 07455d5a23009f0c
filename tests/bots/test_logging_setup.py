"""The log redaction layer: every line a handler writes is redacted, whoever logged it."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bots.log_format import RedactingJsonFormatter
from bots.redaction import CONTENT_LOGGERS, RedactingFormatter, redact_logs, show_message_text
from core.log_context import message_ids
from core.messages import ConversationRef, IncomingMessage, Sender
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


async def test_json_lines_written_while_a_message_is_handled_carry_its_ids() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingJsonFormatter())
    logger = logging.getLogger("bloombridge.test.ids")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    message = IncomingMessage(
        id="m-42",
        conversation=ConversationRef("slack", "T1", "C2", "1700000000.000100"),
        sender=Sender("U3"),
        text="a secret plan",
        sent_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    try:
        logger.info("before")
        with message_ids(message, event_id="Ev9"):
            # A task started while handling (a guard, a claim keeper) inherits the ids.
            await asyncio.create_task(_log(logger, "inside a task"))
        logger.info("after")
    finally:
        logger.removeHandler(handler)
    before, inside, after = (json.loads(line) for line in stream.getvalue().splitlines())
    assert "message_id" not in before and "message_id" not in after
    assert inside["message"] == "inside a task"
    assert {name: inside[name] for name in ("platform", "conversation", "message_id")} == {
        "platform": "slack",
        "conversation": message.conversation.key,
        "message_id": "m-42",
    }
    assert inside["event_id"] == "Ev9"
    assert "a secret plan" not in stream.getvalue()


async def _log(logger: logging.Logger, text: str) -> None:
    logger.info(text)
