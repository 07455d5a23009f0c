"""The Discord world the fakes share: the bot, one guild with a channel and a thread, a DM, users.

Builds the payloads Discord sends (user, application, guild, channel, MESSAGE_CREATE,
INTERACTION_CREATE) in API v10's shape, so the REST fake and the gateway fake agree.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

MESSAGE_CONTENT_INTENT = 1 << 15


@dataclass
class DiscordWorld:
    """Ids and state of the fake Discord; `gateway_url` is filled in by the gateway fake."""

    token: str = "MTIwMDAwMDAwMDAwMDAwMDAwMQ.fake.never-logged-token"
    bot_id: str = "1200000000000000001"
    application_id: str = "1200000000000000001"
    bot_name: str = "BLOOMChat"
    guild_id: str = "1100000000000000001"
    bot_role_id: str = "1100000000000000099"
    channel_id: str = "1100000000000000010"
    thread_id: str = "1100000000000000777"
    dm_channel_id: str = "1400000000000000005"
    user: dict[str, Any] = field(
        default_factory=lambda: {
            "id": "1300000000000000001",
            "username": "alice_m",
            "global_name": "Alice",
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
        }
    )
    gateway_url: str = ""
    intents: int = 0  # what the bot identified with
    message_content_enabled: bool = True  # the privileged intent switched on in the portal
    threads: dict[str, dict[str, Any]] = field(default_factory=dict)
    interactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    user_message_authors: dict[str, str] = field(default_factory=dict)  # message id -> author

    def __post_init__(self) -> None:
        self._ids = itertools.count(1_500_000_000_000_001_000)
        self.threads[self.thread_id] = self._thread(self.thread_id, self.channel_id, "Questions")

    def next_id(self) -> str:
        return str(next(self._ids))

    # ----- objects ---------------------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "username": self.bot_name,
            "global_name": None,
            "discriminator": "4821",
            "avatar": None,
            "bot": True,
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
            "public_flags": 0,
        }

    def application(self) -> dict[str, Any]:
        return {
            "id": self.application_id,
            "name": self.bot_name,
            "icon": None,
            "description": "",
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": dict(self.user),
            "interactions_endpoint_url": None,
        }

    def _member(self, user: dict[str, Any], roles: list[str]) -> dict[str, Any]:
        return {
            "user": user,
            "roles": roles,
            "joined_at": "2024-01-01T10:00:00.000000+00:00",
            "nick": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "avatar": None,
            "premium_since": None,
            "communication_disabled_until": None,
        }

    def _thread(self, thread_id: str, parent_id: str, name: str) -> dict[str, Any]:
        return {
            "id": thread_id,
            "type": 11,
            "guild_id": self.guild_id,
            "parent_id": parent_id,
            "owner_id": self.user["id"],
            "name": name,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 1,
            "member_count": 1,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": "2024-11-25T09:00:00.000000+00:00",
                "locked": False,
            },
        }

    def text_channel(self) -> dict[str, Any]:
        return {
            "id": self.channel_id,
            "type": 0,
            "guild_id": self.guild_id,
            "name": "general",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
        }

    def guild(self) -> dict[str, Any]:
        """The GUILD_CREATE payload: roles (the bot's managed one tagged), channel, threads."""
        return {
            "id": self.guild_id,
            "name": "BLOOM lab",
            "icon": None,
            "owner_id": self.user["id"],
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "system_channel_flags": 0,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [
                {
                    "id": self.guild_id,
                    "name": "@everyone",
                    "permissions": "1071698660929",
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                },
                {
                    "id": self.bot_role_id,
                    "name": self.bot_name,
                    "permissions": "328565073920",
                    "position": 1,
                    "color": 0,
                    "hoist": False,
                    "managed": True,
                    "mentionable": False,
                    "flags": 0,
                    "tags": {"bot_id": self.bot_id},
                },
            ],
            "member_count": 2,
            "large": False,
            "unavailable": False,
            "joined_at": "2024-01-01T10:00:00.000000+00:00",
            "members": [self._member(self.bot_user(), [self.bot_role_id])],
            "channels": [self.text_channel()],
            "threads": list(self.threads.values()),
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def channel(self, channel_id: str) -> dict[str, Any] | None:
        if channel_id == self.channel_id:
            return self.text_channel()
        if channel_id in self.threads:
            return self.threads[channel_id]
        if channel_id == self.dm_channel_id:
            return {"id": channel_id, "type": 1, "recipients": [self.user], "last_message_id": None}
        return None

    def guild_of(self, channel_id: str) -> str | None:
        return None if channel_id == self.dm_channel_id else self.guild_id

    def add_thread(self, parent_id: str, message_id: str, name: str) -> dict[str, Any]:
        """A thread started from a message (its id is the message's, as on Discord)."""
        thread = self._thread(message_id, parent_id, name)
        thread["owner_id"] = self.bot_id
        self.threads[message_id] = thread
        return thread

    # ----- events users cause ----------------------------------------------------------------

    def user_message(
        self,
        channel_id: str,
        content: str,
        *,
        mention_bot: bool = False,
        mention_role: bool = False,
        everyone: bool = False,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A MESSAGE_CREATE `d` from the user, as Discord sends it given the bot's intents.

        Without the message-content intent a guild message that does not mention the bot
        (user or role, or a reply ping) arrives with empty content, as on Discord.
        """
        message_id = self.next_id()
        guild_id = self.guild_of(channel_id)
        text = content
        mentions: list[dict[str, Any]] = []
        if mention_bot:
            text = f"<@{self.bot_id}> {content}"
            mentions.append(self.bot_user())
        if mention_role:
            text = f"<@&{self.bot_role_id}> {content}"
        if everyone:
            text = f"@everyone {content}"
        payload: dict[str, Any] = {
            "id": message_id,
            "type": 0,
            "channel_id": channel_id,
            "author": dict(self.user),
            "content": text,
            "timestamp": "2024-11-25T10:25:00.000000+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": everyone,
            "mentions": mentions,
            "mention_roles": [self.bot_role_id] if mention_role else [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "flags": 0,
            "nonce": message_id,
        }
        if reply_to is not None:
            payload["type"] = 19
            payload["message_reference"] = {
                "type": 0,
                "channel_id": channel_id,
                "message_id": reply_to["id"],
            }
            payload["referenced_message"] = reply_to
            if str(reply_to["author"]["id"]) == self.bot_id:
                mentions.append(self.bot_user())  # the default reply ping
        if guild_id is not None:
            payload["guild_id"] = guild_id
            payload["member"] = {
                key: value for key, value in self._member(self.user, []).items() if key != "user"
            }
            if channel_id in self.threads:
                payload["position"] = 1
            addressed = bool(mentions) or mention_role
            if not addressed and not self.intents & MESSAGE_CONTENT_INTENT:
                payload["content"] = ""
        self.user_message_authors[message_id] = str(self.user["id"])
        return payload

    def interaction(
        self,
        channel_id: str,
        *,
        kind: int,
        data: dict[str, Any],
        locale: str = "en-US",
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE `d`: a slash command (kind 2) or a button press (kind 3)."""
        interaction_id = self.next_id()
        token = f"interaction-token-{interaction_id}"
        guild_id = self.guild_of(channel_id)
        channel = self.channel(channel_id) or {"id": channel_id, "type": 0}
        payload: dict[str, Any] = {
            "id": interaction_id,
            "application_id": self.application_id,
            "type": kind,
            "data": data,
            "channel_id": channel_id,
            "channel": channel,
            "token": token,
            "version": 1,
            "locale": locale,
            "app_permissions": "562949953421311",
            "attachment_size_limit": 10_485_760,
            "entitlements": [],
            "authorizing_integration_owners": {"0": guild_id or self.user["id"]},
            "context": 0 if guild_id else 1,
        }
        if guild_id is not None:
            payload["guild_id"] = guild_id
            payload["guild_locale"] = "en-US"
            payload["member"] = {
                **self._member(dict(self.user), []),
                "permissions": "1071698660929",
            }
        else:
            payload["user"] = dict(self.user)
        if message is not None:
            payload["message"] = message
        self.interactions[interaction_id] = payload
        return payload
