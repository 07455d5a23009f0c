"""The Slack adapter passes the shared adapter contract, in Socket Mode and over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.adapters.contract import AdapterContract, VirtualClock, dialog_rig
from tests.adapters.slack.harness import SlackHarness
from tests.fakes.slack_api import FakeSlackAPI


@pytest.fixture(params=["socket-mode", "http"])
async def harness(
    request: pytest.FixtureRequest, redis_url: str, redis_namespace: str
) -> AsyncIterator[SlackHarness]:
    clock = VirtualClock()
    async with (
        dialog_rig(redis_url, redis_namespace) as rig,
        FakeSlackAPI(clock=clock.now) as api,
    ):
        slack = SlackHarness(rig, api, clock, http=request.param == "http")
        try:
            yield slack
        finally:
            await slack.close()


class TestSlackContract(AdapterContract):
    """Every contract behaviour, on Slack."""
