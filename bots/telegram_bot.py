"""`bloombridge run telegram`: the Telegram bot, by long polling or webhook, until SIGTERM."""

from __future__ import annotations

import argparse
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from adapters.base import ChatHandler
from adapters.telegram.adapter import TelegramAdapter, WebhookConfig
from bots.lifecycle import run_until_stopped
from bots.run_command import platform_subparsers
from bots.settings import Settings, load_settings
from bots.wiring import build_dialog
from core.errors import ConfigurationError

# Telegram's rule for X-Telegram-Bot-Api-Secret-Token values.
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
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


def webhook_config(settings: Settings) -> WebhookConfig | None:
    """Webhook mode when a webhook URL is set; the secret token is then required."""
    if not settings.telegram_webhook_url:
        return None
    secret = settings.telegram_webhook_secret
    if secret is None or not _SECRET_TOKEN.match(secret.get_secret_value()):
        raise ConfigurationError(
            "BLOOMBRIDGE_TELEGRAM_WEBHOOK_SECRET must be set to 1-256 characters "
            "of A-Z, a-z, 0-9, _ and - when BLOOMBRIDGE_TELEGRAM_WEBHOOK_URL is set"
        )
    return WebhookConfig(
        url=settings.telegram_webhook_url,
        secret_token=secret.get_secret_value(),
        listen=settings.telegram_webhook_listen,
        port=settings.telegram_webhook_port,
        path=settings.telegram_webhook_path.strip("/"),
    )


def build_adapter(settings: Settings, handler: ChatHandler) -> TelegramAdapter:
    """The Telegram adapter the settings describe."""
    if settings.telegram_token is None or not settings.telegram_token.get_secret_value():
        raise ConfigurationError("BLOOMBRIDGE_TELEGRAM_TOKEN is not set: get one from @BotFather")
    return TelegramAdapter(
        handler,
        token=settings.telegram_token.get_secret_value(),
        api_url=settings.telegram_api_url,
        webhook=webhook_config(settings),
    )


@asynccontextmanager
async def telegram_bot(settings: Settings) -> AsyncIterator[TelegramAdapter]:
    """The dialog manager and a started Telegram adapter, closed in reverse order on exit."""
    async with build_dialog(settings) as dialog:
        adapter = build_adapter(settings, dialog)
        async with adapter:
            yield adapter


async def serve(settings: Settings) -> None:
    """Answer Telegram until cancelled (SIGTERM, SIGINT)."""
    async with telegram_bot(settings) as adapter:
        await adapter.run()


def _run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    logging.getLogger().setLevel(settings.log_level.upper())
    secrets = [
        secret.get_secret_value()
        for secret in (settings.telegram_token, settings.telegram_webhook_secret)
        if secret is not None
    ]
    redact_logs(*secrets)
    run_until_stopped(serve(settings))
    return 0


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add `run telegram`."""
    parser = platform_subparsers(subparsers).add_parser(
        "telegram", help="answer Telegram chats (long polling, or webhook when configured)"
    )
    parser.set_defaults(handler=_run)
