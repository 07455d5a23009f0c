"""The app manifest in the README asks for what the adapter uses: events, scopes, command."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from adapters.slack.adapter import DEFAULT_COMMAND, EVENTS_PATH

README = Path(__file__).parents[3] / "README.md"


def manifest() -> dict[str, Any]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## Slack\n") :]
    section = section[: section.index("\n## ", 1)]
    (block,) = re.findall(r"```json\n(.*?)```", section, flags=re.DOTALL)
    loaded: dict[str, Any] = json.loads(block)
    return loaded


def test_the_manifest_subscribes_to_every_event_the_adapter_answers() -> None:
    events = set(manifest()["settings"]["event_subscriptions"]["bot_events"])
    assert events == {
        "app_mention",
        "message.channels",
        "message.groups",
        "message.im",
        "message.mpim",
    }


def test_the_manifest_has_the_scopes_of_every_call_the_adapter_makes() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    needed = {
        "app_mentions:read",  # app_mention events
        "channels:history",  # message.channels (thread follow-ups)
        "groups:history",
        "im:history",  # DMs
        "mpim:history",
        "chat:write",  # chat.postMessage, chat.update, chat.*Stream
        "assistant:write",  # assistant.threads.setStatus
        "commands",  # the slash command
        "users:read",  # users.info for the locale
    }
    assert scopes == needed


def test_the_manifest_declares_the_slash_command_and_interactivity() -> None:
    loaded = manifest()
    (command,) = loaded["features"]["slash_commands"]
    assert command["command"] == DEFAULT_COMMAND
    assert loaded["settings"]["interactivity"]["is_enabled"] is True  # 👍/👎 buttons
    for url in (
        command["url"],
        loaded["settings"]["interactivity"]["request_url"],
        loaded["settings"]["event_subscriptions"]["request_url"],
    ):
        assert url.endswith(EVENTS_PATH)
    assert loaded["settings"]["socket_mode_enabled"] is True
