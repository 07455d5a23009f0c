"""`bloombridge run discord`: the Discord bot on the gateway, until SIGTERM."""

from __future__ import annotations

from pydantic import SecretStr

from adapters.base import ChatHandler
from adapters.discord.adapter import DiscordAdapter
from adapters.discord.options import DiscordOptions
from adapters.discord.routing import DEFAULT_API_URL, DiscordEndpoints
from bots.run_command import PlatformBot
from bots.settings import Settings
from core.errors import ConfigurationError


def build_adapter(settings: Settings, handler: ChatHandler) -> DiscordAdapter:
    """The Discord adapter the settings describe."""
    discord = settings.discord
    token = discord.token
    if token is None or not token.get_secret_value().strip():
        raise ConfigurationError(
            "BLOOMBRIDGE_DISCORD_TOKEN is not set: copy the bot token from the Bot page of "
            "your application in the Discord Developer Portal"
        )
    channels = [channel for channel in discord.listen_channels if channel]
    if not all(channel.isdigit() for channel in channels):
        raise ConfigurationError(
            "BLOOMBRIDGE_DISCORD_LISTEN_CHANNELS takes channel ids (numbers), comma-separated"
        )
    return DiscordAdapter(
        handler,
        token=token.get_secret_value().strip(),
        endpoints=DiscordEndpoints(
            api_url=discord.api_url or DEFAULT_API_URL, gateway_url=discord.gateway_url
        ),
        options=DiscordOptions(
            message_content=discord.message_content,
            listen_channels=frozenset(channels),
            thread_per_mention=discord.thread_per_mention,
        ),
    )


def _secrets(settings: Settings) -> list[SecretStr | None]:
    return [settings.discord.token]


BOT = PlatformBot(
    name="discord",
    summary="answer Discord servers and DMs (mentions, replies, slash commands)",
    build_adapter=build_adapter,
    secrets=_secrets,
)
