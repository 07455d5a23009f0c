"""Admission: allowlists and rate limits, counted in memory and in the real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis
from limits.aio.storage import Storage

from core.admission import (
    NOT_ALLOWED,
    RATE_LIMITED,
    Admission,
    AdmissionPolicy,
    rate_limit_storage,
)
from core.dialog import DialogManager
from core.errors import ConfigurationError
from core.generation.tgi import TgiGenerator
from core.messages import ConversationRef, FinishReason, IncomingMessage, Sender
from core.notices import notice
from core.store.memory import MemoryStore
from tests.fakes.tgi import FakeTGI, Script, dead_url

GROUP = ConversationRef(platform="slack", space="T1", channel="C1")
OTHER = ConversationRef(platform="slack", space="T2", channel="C9")


def message(sender: str = "U1", conversation: ConversationRef = GROUP) -> IncomingMessage:
    return IncomingMessage(
        id="m",
        conversation=conversation,
        sender=Sender(id=sender, locale_hint="fr"),
        text="Bonjour, comment vas-tu ?",
        sent_at=datetime.now(UTC),
    )


@pytest.fixture(params=["memory", "redis"])
async def storage(
    request: pytest.FixtureRequest, redis_url: str, redis_namespace: str
) -> AsyncIterator[Storage]:
    yield rate_limit_storage(redis_url if request.param == "redis" else None, redis_namespace)


def test_empty_allowlists_admit_everyone() -> None:
    admission = Admission(AdmissionPolicy(), rate_limit_storage(None, "t"))
    assert admission.allows(message("anyone", OTHER))


def test_a_listed_sender_or_a_listed_place_is_allowed() -> None:
    policy = AdmissionPolicy(
        allowed_senders=frozenset({"slack:U1"}), allowed_conversations=frozenset({"slack:T2"})
    )
    admission = Admission(policy, rate_limit_storage(None, "t"))
    assert admission.allows(message("U1", GROUP))  # the sender is listed
    assert admission.allows(message("U7", OTHER))  # the whole team T2 is listed
    assert not admission.allows(message("U7", GROUP))
    # Ids are per platform: the same id on another platform is someone else.
    telegram = ConversationRef(platform="telegram", space=None, channel="C1")
    assert not admission.allows(message("U1", telegram))


async def test_per_user_limit_counts_across_conversations(storage: Storage) -> None:
    policy = AdmissionPolicy(per_user="2/minute", per_conversation=None)
    admission = Admission(policy, storage)
    assert await admission.admit(message("U1", GROUP)) is None
    assert await admission.admit(message("U1", OTHER)) is None
    refusal = await admission.admit(message("U1", GROUP))
    assert refusal is not None and refusal.reason == RATE_LIMITED
    assert 1 <= refusal.retry_after <= 60
    assert await admission.admit(message("U2", GROUP)) is None  # others are not affected


async def test_per_conversation_limit_counts_every_sender(storage: Storage) -> None:
    policy = AdmissionPolicy(per_user=None, per_conversation="3/hour")
    admission = Admission(policy, storage)
    for sender in ("U1", "U2", "U3"):
        assert await admission.admit(message(sender)) is None
    refusal = await admission.admit(message("U4"))
    assert refusal is not None and refusal.reason == RATE_LIMITED
    assert await admission.admit(message("U4", OTHER)) is None


async def test_limits_are_kept_in_redis_under_the_namespace(
    redis_url: str, redis_namespace: str
) -> None:
    storage = rate_limit_storage(redis_url, redis_namespace)
    admission = Admission(AdmissionPolicy(per_user="5/minute", per_conversation=None), storage)
    await admission.admit(message())
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        keys = [key async for key in client.scan_iter(match=f"{redis_namespace}:ratelimit:*")]
    finally:
        await client.aclose()
    assert len(keys) == 1 and "U1" in keys[0]


async def test_a_failing_limit_store_admits_the_message() -> None:
    storage = rate_limit_storage(f"{dead_url().replace('http', 'redis')}/0", "t")
    admission = Admission(AdmissionPolicy(per_user="1/minute"), storage)
    assert await admission.admit(message()) is None
    assert await admission.admit(message()) is None


def test_a_malformed_limit_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="per-user rate limit"):
        Admission(AdmissionPolicy(per_user="lots"), rate_limit_storage(None, "t"))


async def test_refused_messages_get_a_notice_in_their_language_and_no_generation() -> None:
    policy = AdmissionPolicy(
        allowed_conversations=frozenset({"slack:T1"}), per_user="1/minute", per_conversation=None
    )
    async with FakeTGI() as tgi, TgiGenerator(tgi.url) as generator:
        tgi.enqueue(Script(reply="Salut !"))
        dialog = DialogManager(
            generator=generator,
            store=MemoryStore(),
            admission=Admission(policy, rate_limit_storage(None, "t")),
        )
        first = await dialog.handle(message("U1")).collect()
        limited = await dialog.handle(message("U1")).collect()
        stranger = await dialog.handle(message("U5", OTHER)).collect()
        help_reply = await dialog.handle(replace(message("U1"), text="/help")).collect()
        requests = len(tgi.generation_requests())
    assert first.text == "Salut !"
    assert limited.finish_reason is FinishReason.REJECTED
    assert limited.notices[0].startswith(notice("rate_limited", "fr", seconds=0).split("0")[0])
    assert stranger.notices == (notice(NOT_ALLOWED, "fr"),)
    assert help_reply.finish_reason is FinishReason.COMMAND  # commands never count
    assert requests == 1
    labels = {"platform": "slack", "reason": RATE_LIMITED}
    assert dialog.metrics.value("bloombridge_admission_refusals_total", labels) == 1
