"""Command parsing: what counts as a bot command and what is an ordinary message."""

from __future__ import annotations

import pytest

from core.commands import (
    CATALOGUE,
    KNOWN_COMMANDS,
    Command,
    command_menus,
    command_text,
    parse_command,
)
from core.notices import notice


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/help", Command("help", "")),
        ("/reset@bloom_bot", Command("reset", "")),
        ("  /LANG fr ", Command("lang", "fr")),
        ("/lang auto", Command("lang", "auto")),
    ],
)
def test_commands_are_parsed(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize("text", ["hello", "/usr/bin/env python", "a /help", "/ help", "/1"])
def test_ordinary_text_is_not_a_command(text: str) -> None:
    assert parse_command(text) is None


def test_the_catalogue_gives_every_platform_the_same_commands_in_each_language() -> None:
    menus = dict(command_menus())
    english = menus[None]
    assert [name for name, _ in english] == list(KNOWN_COMMANDS)
    assert [name for name, _ in english] == [command.name for command in CATALOGUE]
    assert dict(english)["help"] == notice("command_help", "en")
    assert dict(menus["fr"])["help"] == notice("command_help", "fr") != dict(english)["help"]
    assert all([name for name, _ in menu] == list(KNOWN_COMMANDS) for menu in menus.values())


@pytest.mark.parametrize(
    ("name", "arguments", "text"),
    [("lang", "fr", "/lang fr"), ("/help", "", "/help"), ("reset", "  ", "/reset")],
)
def test_native_command_payloads_read_as_command_text(name: str, arguments: str, text: str) -> None:
    assert command_text(name, arguments) == text
    assert parse_command(command_text(name, arguments)) is not None
