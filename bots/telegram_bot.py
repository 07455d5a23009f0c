"""`bloombridge run telegram`: the Telegram bot, by long polling or webhook, until SIGTERM."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pydantic import SecretStr

from adapters.base import Adapter, ChatHandler
from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.webhook import WebhookConfig
from bots.run_command import PlatformBot, running_adapter
from bots.settings import Settings
from core.errors import ConfigurationError

# Telegram's rule for X-Telegram-Bot-Api-Secret-Token values.
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def webhook_config(settings: Settings) -> WebhookConfig | None:
    """Webhook mode when a webhook URL is set; the secret token is then required."""
    if not settings.telegram.webhook_url:
        return None
    secret = settings.telegram.webhook_secret
    if secret is None or not _SECRET_TOKEN.match(secret.get_secret_value()):
        raise ConfigurationError(
            "BLOOMBRIDGE_TELEGRAM_WEBHOOK_SECRET must be set to 1-256 characters "
            "of A-Z, a-z, 0-9, _ and - when BLOOMBRIDGE_TELEGRAM_WEBHOOK_URL is set"
        )
    return WebhookConfig(
        url=settings.telegram.webhook_url,
        secret_token=secret.get_secret_value(),
        listen=settings.telegram.webhook_listen,
        port=settings.telegram.webhook_port,
        path=settings.telegram.webhook_path.strip("/"),
    )


def build_adapter(settings: Settings, handler: ChatHandler) -> TelegramAdapter:
    """The Telegram adapter the settings describe."""
    if settings.telegram.token is None or not settings.telegram.token.get_secret_value():
        raise ConfigurationError("BLOOMBRIDGE_TELEGRAM_TOKEN is not set: get one from @BotFather")
    return TelegramAdapter(
        handler,
        token=settings.telegram.token.get_secret_value(),
        api_url=settings.telegram.api_url,
        webhook=webhook_config(settings),
    )


@asynccontextmanager
async def telegram_bot(settings: Settings) -> AsyncIterator[Adapter]:
    """The dialog manager and a started Telegram adapter, closed in reverse order on exit."""
    async with running_adapter(BOT, settings) as adapter:
        yield adapter


def _secrets(settings: Settings) -> list[SecretStr | None]:
    return [settings.telegram.token, settings.telegram.webhook_secret]


BOT = PlatformBot(
    name="telegram",
    summary="answer Telegram chats (long polling, or webhook when configured)",
    build_adapter=build_adapter,
    secrets=_secrets,
)
