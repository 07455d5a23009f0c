"""`bloombridge run slack`: the Slack bot in Socket Mode, or over HTTP with `--http PORT`."""

from __future__ import annotations

from pydantic import SecretStr

from adapters.base import ChatHandler
from adapters.slack.adapter import HttpConfig, SlackAdapter
from bots.run_command import PlatformBot
from bots.settings import Settings
from core.errors import ConfigurationError


def _secret(value: SecretStr | None) -> str:
    return "" if value is None else value.get_secret_value().strip()


def http_config(settings: Settings) -> HttpConfig | None:
    """HTTP Events API mode when a port is set; the signing secret is then required."""
    if settings.slack.http_port is None:
        return None
    secret = _secret(settings.slack.signing_secret)
    if not secret:
        raise ConfigurationError(
            "BLOOMBRIDGE_SLACK_SIGNING_SECRET must be set in HTTP mode (--http PORT): "
            "the app's Signing Secret, from Basic Information"
        )
    return HttpConfig(
        port=settings.slack.http_port, signing_secret=secret, listen=settings.slack.http_listen
    )


def _bot_token(settings: Settings) -> str:
    bot_token = _secret(settings.slack.bot_token)
    if not bot_token.startswith("xoxb-"):
        raise ConfigurationError(
            "BLOOMBRIDGE_SLACK_BOT_TOKEN must be set to the app's Bot User OAuth Token "
            "(xoxb-..., from OAuth & Permissions)"
        )
    return bot_token


def build_sender(settings: Settings, handler: ChatHandler) -> SlackAdapter:
    """A queue worker's Slack adapter: the bot token and the Web API only (no events)."""
    return SlackAdapter(
        handler,
        bot_token=_bot_token(settings),
        api_url=settings.slack.api_url,
        streaming=settings.slack.streaming,
    )


def build_adapter(settings: Settings, handler: ChatHandler) -> SlackAdapter:
    """The Slack adapter the settings describe."""
    bot_token = _bot_token(settings)
    http = http_config(settings)
    app_token = _secret(settings.slack.app_token)
    if http is None and not app_token.startswith("xapp-"):
        raise ConfigurationError(
            "BLOOMBRIDGE_SLACK_APP_TOKEN must be set to an app-level token (xapp-..., with "
            "connections:write) for Socket Mode; or run `bloombridge run slack --http PORT`"
        )
    command = settings.slack.command.strip()
    if not command.startswith("/") or len(command) < 2:
        raise ConfigurationError("BLOOMBRIDGE_SLACK_COMMAND must start with / (e.g. /bloombridge)")
    return SlackAdapter(
        handler,
        bot_token=bot_token,
        app_token=app_token or None,
        http=http,
        api_url=settings.slack.api_url,
        command=command,
        streaming=settings.slack.streaming,
    )


def _secrets(settings: Settings) -> list[SecretStr | None]:
    slack = settings.slack
    return [slack.bot_token, slack.app_token, slack.signing_secret]


BOT = PlatformBot(
    name="slack",
    summary="answer Slack mentions, DMs and threads (Socket Mode, or HTTP with --http PORT)",
    build_adapter=build_adapter,
    secrets=_secrets,
    build_sender=build_sender,
)
