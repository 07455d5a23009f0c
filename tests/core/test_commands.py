"""Command parsing: what counts as a bot command and what is an ordinary message."""

from __future__ import annotations

import pytest

from core.commands import Command, parse_command


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
