"""The Telegram adapter passes the shared adapter contract (long polling, drafts on)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.adapters.contract import AdapterContract, VirtualClock, dialog_rig
from tests.adapters.telegram.harness import TelegramHarness
from tests.fakes.telegram_api import FakeTelegramAPI


@pytest.fixture
async def harness(redis_url: str, redis_namespace: str) -> AsyncIterator[TelegramHarness]:
    clock = VirtualClock()
    async with (
        dialog_rig(redis_url, redis_namespace) as rig,
        FakeTelegramAPI(clock=clock.now) as api,
    ):
        telegram = TelegramHarness(rig, api, clock)
        try:
            yield telegram
        finally:
            await telegram.close()


class TestTelegramContract(AdapterContract):
    """Every contract behaviour, on Telegram."""
