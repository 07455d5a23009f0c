"""Mention neutralising: no reply can ping anyone, on any platform; code stays exact."""

from __future__ import annotations

import re

import pytest

from adapters.mentions import WORD_JOINER, neutralize_mentions

# What each platform would read as a mention in a bot's message.
_LIVE_MENTIONS = re.compile(r"(?<![\w@])@\w|<[!@#]")


@pytest.mark.parametrize(
    "text",
    [
        "@everyone look at this",
        "Hey @here, and @channel too",
        "<!channel> <!here> <!everyone> <!subteam^S0614TZR7|@devs>",
        "ping <@U024BE7LH> and <@123456789012345678> and <@!42> and role <@&987>",
        "see <#C024BE7LH|general>",
        "Thanks @alice_m!",
        "(@everyone)",
    ],
)
def test_mentions_reach_no_platform_live(text: str) -> None:
    neutral = neutralize_mentions(text)
    assert _LIVE_MENTIONS.search(neutral) is None
    # Readers see the same text: only invisible word joiners were added.
    assert neutral.replace(WORD_JOINER, "") == text


def test_code_and_email_addresses_are_left_exact() -> None:
    text = (
        "Write to bloom@example.org.\n\n```python\n@dataclass\nclass A: ...\n```\n"
        "Use `@everyone` in code, but not @everyone here."
    )
    neutral = neutralize_mentions(text)
    assert "bloom@example.org" in neutral
    assert "```python\n@dataclass\nclass A: ...\n```" in neutral
    assert "`@everyone`" in neutral
    assert f"not @{WORD_JOINER}everyone here" in neutral


def test_an_unclosed_code_block_while_streaming_stays_exact() -> None:
    text = "Here:\n\n```\n@decorator\n<@U1>"
    assert neutralize_mentions(text) == text


def test_neutralising_twice_changes_nothing_more() -> None:
    once = neutralize_mentions("@everyone <!here>")
    assert neutralize_mentions(once) == once
