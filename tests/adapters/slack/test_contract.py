"""The Slack adapter passes the shared adapter contract, in Socket Mode and over HTTP."""

from __future__ import annotations

import pytest

from tests.adapters.contract import AdapterContract
from tests.adapters.slack.harness import SlackHarness


@pytest.fixture
def harness(slack_any_mode: SlackHarness) -> SlackHarness:
    return slack_any_mode


class TestSlackContract(AdapterContract):
    """Every contract behaviour, on Slack."""
