"""The shared adapter contract on a second platform: the loopback chat, append-only streaming."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.adapters.contract import AdapterContract, VirtualClock, dialog_rig
from tests.adapters.loopback.harness import LoopbackHarness


@pytest.fixture
async def harness(redis_url: str, redis_namespace: str) -> AsyncIterator[LoopbackHarness]:
    async with dialog_rig(redis_url, redis_namespace) as rig:
        loopback = LoopbackHarness(rig, VirtualClock())
        try:
            yield loopback
        finally:
            await loopback.close()


class TestLoopbackContract(AdapterContract):
    """Every contract behaviour, on a platform whose live messages only grow."""
