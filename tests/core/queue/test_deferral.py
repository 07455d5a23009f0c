"""Every replica busy in a queue worker: the reply is put off (ReplyDeferred), nothing is shown."""

from __future__ import annotations

from collections.abc import AsyncIterator

from adapters.pacer import RateGate, ReplyPacer
from core.config import DialogConfig
from core.dialog import DialogManager
from core.errors import ReplyDeferred
from core.generation.pool import PoolPolicy, ReplicaPool
from core.messages import FinishReason, Reply, ReplyEvent, ReplyStream
from core.notices import notice
from core.store.memory import MemoryStore
from tests.core.queue.test_codec_and_streams import message
from tests.fakes.tgi import FakeTGI, Script, TgiFailure

# Busy replicas are backed off briefly and waited for at most this long.
BUSY = PoolPolicy(backoff_initial=0.05, backoff_max=0.05, max_wait=0.2, queue_timeout=0.2)


async def _busy_dialog_answer(defer: bool) -> tuple[list[str], Reply | ReplyDeferred]:
    async with (
        FakeTGI(default=Script(failure=TgiFailure.overloaded(), failure_as_status=True)) as tgi,
        ReplicaPool.from_urls([tgi.url], policy=BUSY) as pool,
    ):
        dialog = DialogManager(
            generator=pool, store=MemoryStore(), config=DialogConfig(defer_when_busy=defer)
        )
        shown: list[str] = []

        async def publish(text: str, final: Reply | None) -> None:
            shown.append(text)

        try:
            stream = dialog.handle(message("4", "1"))
            reply = await ReplyPacer(RateGate(calls_per_second=100)).deliver(
                stream, publish, chat="4"
            )
        except ReplyDeferred as exc:
            return shown, exc
        return shown, reply


async def test_a_worker_puts_the_message_off_and_shows_nothing() -> None:
    shown, outcome = await _busy_dialog_answer(defer=True)
    assert isinstance(outcome, ReplyDeferred)
    assert shown == []


async def test_one_process_still_says_it_is_busy() -> None:
    shown, outcome = await _busy_dialog_answer(defer=False)
    assert isinstance(outcome, Reply)
    assert outcome.finish_reason is FinishReason.ERROR
    assert outcome.notices == (notice("overloaded", "fr"),)
    assert shown == [outcome.display_text]


async def test_a_deferral_after_text_was_cleared_ends_as_interrupted() -> None:
    async def events() -> AsyncIterator[ReplyEvent]:
        yield "Half an answer"
        raise ReplyDeferred("busy after all")

    shown: list[str] = []

    async def publish(text: str, final: Reply | None) -> None:
        shown.append(text)

    reply = await ReplyPacer(RateGate(calls_per_second=100)).deliver(
        ReplyStream(events()), publish, chat="c"
    )
    assert reply.finish_reason is FinishReason.INTERRUPTED
    assert shown[-1].startswith("Half an answer")  # kept, with the "interrupted" notice
