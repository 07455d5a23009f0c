"""Fixtures: the Slack harness in Socket Mode and over HTTP, on the fake Web API and real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.adapters.contract import DialogRig, VirtualClock, dialog_rig
from tests.adapters.slack.harness import SlackHarness
from tests.fakes.slack_api import FakeSlackAPI


async def _harness(redis_url: str, namespace: str, *, http: bool) -> AsyncIterator[SlackHarness]:
    clock = VirtualClock()
    async with dialog_rig(redis_url, namespace) as rig, FakeSlackAPI(clock=clock.now) as api:
        slack = SlackHarness(rig, api, clock, http=http)
        try:
            yield slack
        finally:
            await slack.close()


@pytest.fixture
async def slack(redis_url: str, redis_namespace: str) -> AsyncIterator[SlackHarness]:
    """The Slack harness in Socket Mode."""
    async for harness in _harness(redis_url, redis_namespace, http=False):
        yield harness


@pytest.fixture
async def slack_http(redis_url: str, redis_namespace: str) -> AsyncIterator[SlackHarness]:
    """The Slack harness in HTTP Events API mode."""
    async for harness in _harness(redis_url, redis_namespace, http=True):
        yield harness


@pytest.fixture(params=["socket-mode", "http"])
def slack_any_mode(request: pytest.FixtureRequest) -> SlackHarness:
    """The Slack harness in each mode in turn."""
    fixture = "slack" if request.param == "socket-mode" else "slack_http"
    chosen: SlackHarness = request.getfixturevalue(fixture)
    return chosen


@pytest.fixture
async def slack_rig(redis_url: str, redis_namespace: str) -> AsyncIterator[DialogRig]:
    """The dialog rig alone (fake TGI, real Redis), for Slack parts below the adapter."""
    async with dialog_rig(redis_url, redis_namespace) as rig:
        yield rig
