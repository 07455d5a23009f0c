"""bench.safety_eval counts a benign row as blocked the way the default policy treats its role."""

from __future__ import annotations

import pytest

from bench.safety_data import SafetyRow
from bench.safety_eval import blocked_by_default
from core.safety.categories import HATE, OBSCENITY


def _benign(role: str) -> SafetyRow:
    return SafetyRow("en", "some text", False, "none", "test:row", role)


@pytest.mark.parametrize(
    ("role", "found", "blocked"),
    [
        ("user", frozenset({OBSCENITY}), False),  # a user who swears still gets an answer
        ("reply", frozenset({OBSCENITY}), True),  # the bot never swears
        ("user", frozenset({HATE}), True),
        ("reply", frozenset({HATE, OBSCENITY}), True),
        ("user", frozenset(), False),
    ],
)
def test_obscenity_blocks_replies_only_and_hate_blocks_both(
    role: str, found: frozenset[str], blocked: bool
) -> None:
    assert blocked_by_default(_benign(role), found) is blocked
