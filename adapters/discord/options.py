"""What the Discord adapter may do: the platform's limits and the operator's choices."""

from __future__ import annotations

import dataclasses

from adapters.capabilities import Capabilities, LengthUnit, MarkdownDialect, RateLimitOwner
from adapters.discord.translate import PLATFORM
from core.errors import ConfigurationError

# Discord: 2,000 characters a message (counted here in UTF-16 units, never fewer than
# Discord counts); about five message changes per five seconds per channel; 50 requests a
# second per bot. 429s are the pacer's to wait out (see adapters/discord/routing.py).
DISCORD_CAPABILITIES = Capabilities(
    platform=PLATFORM,
    max_message_length=2000,
    length_unit=LengthUnit.UTF16,
    markdown=MarkdownDialect.DISCORD_MARKDOWN,
    private_edit_interval=1.25,
    group_edit_interval=1.25,
    global_calls_per_second=50.0,
    rate_limits=RateLimitOwner.PACER,
)


@dataclasses.dataclass(frozen=True)
class DiscordOptions:
    """How the bot behaves on Discord, beyond where it connects.

    `message_content` asks for the privileged intent; only then can `listen_channels`
    (channel ids; a thread counts by its parent) be read in full and answered without a
    mention. `thread_per_mention` answers a mention in a channel inside a new thread.
    """

    message_content: bool = False
    listen_channels: frozenset[str] = frozenset()
    thread_per_mention: bool = False
    guild_ready_timeout: float = 2.0
    ready_timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.listen_channels and not self.message_content:
            raise ConfigurationError(
                "answering every message of a channel needs the message content intent: "
                "enable it for the application and set BLOOMBRIDGE_DISCORD_MESSAGE_CONTENT=true"
            )
