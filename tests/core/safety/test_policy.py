"""The policy: per-category block or allow, score threshold, and what an outage does."""

from __future__ import annotations

import pytest

from core.safety import categories as cat
from core.safety.base import Role, SafetyClassifier, SafetyUnavailable, SafetyVerdict
from core.safety.categories import DEFAULT_ALLOWED
from core.safety.policy import GUARD_UNAVAILABLE, OnUnavailable, PolicyConfig, SafetyPolicy
from core.safety.wordlists import WordListClassifier


class DownClassifier(SafetyClassifier):
    """A classifier whose endpoint never answers (what a guard model does when it is down)."""

    name = "down"

    async def classify(
        self, text: str, *, language: str, role: Role, prompt: str = ""
    ) -> SafetyVerdict:
        raise SafetyUnavailable("connection refused", classifier=self.name)


def verdict(**scores: float) -> SafetyVerdict:
    return SafetyVerdict("test", scores)


def test_default_policy_blocks_harm_and_allows_advice() -> None:
    policy = SafetyPolicy([])
    assert policy.decide([verdict(hate=1.0)]).reason == cat.HATE
    assert not policy.decide([verdict(specialized_advice=1.0)]).blocked
    assert not policy.decide([verdict()]).blocked


def test_the_strongest_blocking_category_is_the_reason() -> None:
    decided = SafetyPolicy([]).decide([verdict(obscenity=0.9), verdict(violence=1.0)])
    assert decided.blocked and decided.reason == cat.VIOLENCE


def test_threshold_lets_controversial_pass_unless_lowered() -> None:
    controversial = [verdict(violence=0.5)]
    assert not SafetyPolicy([]).decide(controversial).blocked
    assert SafetyPolicy([], PolicyConfig(threshold=0.5)).decide(controversial).blocked


def test_an_explicit_block_list_blocks_only_those() -> None:
    policy = SafetyPolicy([], PolicyConfig(blocked=frozenset({cat.HATE})))
    assert policy.decide([verdict(hate=1.0)]).blocked
    assert not policy.decide([verdict(obscenity=1.0)]).blocked


async def test_outage_holds_replies_by_default() -> None:
    policy = SafetyPolicy([WordListClassifier(), DownClassifier()])
    assessment = await policy.assess("hello there", language="en", role=Role.ASSISTANT)
    assert assessment.blocked and assessment.held
    assert assessment.reason == GUARD_UNAVAILABLE
    assert assessment.unavailable == ("down",)


async def test_outage_falls_back_to_the_local_layer_when_configured() -> None:
    config = PolicyConfig(on_unavailable=OnUnavailable.LOCAL)
    policy = SafetyPolicy([WordListClassifier(), DownClassifier()], config)
    clean = await policy.assess("hello there", language="en", role=Role.ASSISTANT)
    assert not clean.blocked
    dirty = await policy.assess("hello, you fucker", language="en", role=Role.ASSISTANT)
    assert dirty.blocked and dirty.reason == cat.OBSCENITY and not dirty.held


async def test_block_log_line_has_category_and_language_but_not_the_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    policy = SafetyPolicy([WordListClassifier()])
    with caplog.at_level("INFO", logger="core.safety.policy"):
        await policy.assess("you are a sh1tty person", language="de", role=Role.ASSISTANT)
    assert "obscenity" in caplog.text and "de" in caplog.text
    assert "sh1tty" not in caplog.text and "person" not in caplog.text


async def test_text_is_logged_only_when_the_operator_turns_it_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    policy = SafetyPolicy([WordListClassifier()], PolicyConfig(log_text=True))
    with caplog.at_level("INFO", logger="core.safety.policy"):
        await policy.assess("you are a sh1tty person", language="de", role=Role.ASSISTANT)
    assert "sh1tty person" in caplog.text


def test_hate_blocks_from_anyone_obscenity_only_in_replies() -> None:
    policy = SafetyPolicy([])
    obscene, hateful = [verdict(obscenity=1.0)], [verdict(hate=1.0)]
    assert policy.decide(obscene, role=Role.ASSISTANT).blocked
    assert not policy.decide(obscene, role=Role.USER).blocked
    assert policy.decide(hateful, role=Role.USER).reason == cat.HATE
    assert policy.decide(hateful, role=Role.ASSISTANT).reason == cat.HATE


def test_a_workplace_blocks_obscenity_from_users_and_a_gaming_server_allows_it() -> None:
    workplace = SafetyPolicy([], PolicyConfig(allowed_from_users=frozenset()))
    assert workplace.decide([verdict(obscenity=1.0)], role=Role.USER).blocked
    gaming = SafetyPolicy([], PolicyConfig(allowed=DEFAULT_ALLOWED | {cat.OBSCENITY}))
    assert not gaming.decide([verdict(obscenity=1.0)], role=Role.ASSISTANT).blocked
    assert gaming.decide([verdict(hate=1.0)], role=Role.ASSISTANT).blocked
