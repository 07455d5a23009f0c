"""The store fails mid-conversation: the dialog still answers, says so once, and recovers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from core.admission import Admission, AdmissionPolicy, rate_limit_storage
from core.config import DialogConfig
from core.dialog import DialogManager
from core.generation.base import GenerationParams
from core.generation.tgi import TgiGenerator
from core.messages import FinishReason, Reply
from core.notices import notice
from core.store.redis import RedisStore
from tests.fakes.tgi import FakeTGI, Script
from tests.faults.messages import CHAT, message
from tests.redis_process import RedisProcess


@dataclass
class Rig:
    redis: RedisProcess
    tgi: FakeTGI
    dialog: DialogManager

    async def ask(self, text: str, reply: str = "Fine.") -> Reply:
        self.tgi.enqueue(Script(reply=reply))
        return await self.dialog.handle(message(text)).collect()

    def last_prompt(self) -> str:
        return str(self.tgi.generation_requests()[-1].body["inputs"])


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    config = DialogConfig(generation=GenerationParams(max_new_tokens=32))
    async with (
        RedisProcess() as redis,
        FakeTGI() as tgi,
        TgiGenerator(tgi.url, first_token_timeout=5.0) as generator,
        RedisStore(redis.url, timeout_seconds=1.0, retries=0) as store,
    ):
        yield Rig(redis, tgi, DialogManager(generator=generator, store=store, config=config))


def outage_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "core.dialog" and record.levelno == logging.WARNING
    ]


async def test_replies_continue_without_history_and_the_outage_is_logged_once(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="core.dialog")
    first = await rig.ask("remember the number 42", "I will remember 42.")
    assert first.notices == ()

    await rig.redis.stop()
    during = [await rig.ask(f"question {n}", f"Answer {n}.") for n in range(3)]
    assert [reply.text for reply in during] == ["Answer 0.", "Answer 1.", "Answer 2."]
    assert all(reply.finish_reason is FinishReason.STOP for reply in during)
    assert all(reply.notices == (notice("history_not_saved", "en"),) for reply in during)
    assert "42" not in rig.last_prompt()  # history could not be read: answered without it
    assert len(outage_warnings(caplog)) == 1
    assert (
        rig.dialog.metrics.value("bloombridge_store_failures_total", {"action": "save a turn"}) == 3
    )

    await rig.redis.start()  # an empty server: what was said before is gone
    after = await rig.ask("and now?", "Back.")
    assert after.notices == ()
    warnings = outage_warnings(caplog)
    assert len(warnings) == 2 and "answers again" in warnings[-1]
    again = await rig.ask("still there?", "Yes.")
    assert "and now?" in rig.last_prompt() and again.notices == ()


async def test_event_claims_let_messages_through_while_the_store_is_down(rig: Rig) -> None:
    assert await rig.dialog.claim_event("test", "1")
    assert not await rig.dialog.claim_event("test", "1")
    await rig.redis.stop()
    assert await rig.dialog.claim_event("test", "2")
    assert await rig.dialog.claim_event("test", "2")  # no record: answered rather than lost
    await rig.dialog.hold_event("test", "2")  # logged, not raised
    assert not await rig.dialog.is_claimed("test", "1")  # unknown now: nothing is claimed


async def test_a_failing_rate_limit_store_admits_messages_and_is_logged_once_per_outage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="core.admission")
    async with RedisProcess() as redis:
        storage = rate_limit_storage(redis.url, "outage")
        admission = Admission(AdmissionPolicy(per_user="100/minute"), storage)
        assert await admission.admit(message("first")) is None
        await redis.stop()
        for number in range(3):
            assert await admission.admit(message(f"during {number}")) is None
        await redis.start()
        assert await admission.admit(message("after")) is None
    lines = [r.getMessage() for r in caplog.records if r.name == "core.admission"]
    assert len(lines) == 2, lines
    assert "rate-limit store failed" in lines[0] and "answers again" in lines[1]


async def test_commands_that_need_the_store_say_it_is_unavailable(rig: Rig) -> None:
    await rig.redis.stop()
    for command in ("/reset", "/forget", "/lang fr"):
        reply = await rig.dialog.handle(message(command)).collect()
        assert reply.text == notice("store_unavailable", "en"), command
    help_reply = await rig.dialog.handle(message("/help")).collect()
    assert help_reply.text == notice("help", "en")


async def test_feedback_is_dropped_with_a_log_line_not_an_exception(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    await rig.redis.stop()
    await rig.dialog.record_feedback(CHAT, "reply-1", "alice", 1)
    assert any("save feedback" in line for line in outage_warnings(caplog))
