"""The Discord adapter passes the shared adapter contract (real discord.py, fake Discord)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.adapters.contract import AdapterContract
from tests.adapters.discord.harness import DiscordHarness, discord_harness


@pytest.fixture
async def harness(redis_url: str, redis_namespace: str) -> AsyncIterator[DiscordHarness]:
    async with discord_harness(redis_url, redis_namespace) as discord:
        yield discord


class TestDiscordContract(AdapterContract):
    """Every contract behaviour, on Discord."""
