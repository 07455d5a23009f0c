"""Token budgeting with counted turns: a full history costs at most one /tokenize per message."""

from __future__ import annotations

from datetime import UTC, datetime

from core.config import DialogConfig
from core.dialog import DialogManager
from core.generation.base import GenerationParams
from core.generation.tgi import TgiGenerator
from core.messages import ConversationRef, IncomingMessage, Sender
from core.store.redis import RedisStore
from tests.fakes.tgi import FakeInfo, FakeTGI, Script

CHAT = ConversationRef(platform="test", space=None, channel="budget")


def message(text: str, number: int) -> IncomingMessage:
    return IncomingMessage(
        id=str(number),
        conversation=CHAT,
        sender=Sender(id="alice", locale_hint="en"),
        text=text,
        sent_at=datetime.now(UTC),
    )


async def test_a_prompt_with_a_full_history_makes_at_most_one_tokenize_call(
    redis_url: str, redis_namespace: str
) -> None:
    config = DialogConfig(generation=GenerationParams(max_new_tokens=64), history_turns=20)
    async with (
        FakeTGI(info=FakeInfo(max_input_tokens=150, max_total_tokens=250)) as tgi,
        TgiGenerator(tgi.url) as generator,
        RedisStore(redis_url, namespace=redis_namespace) as store,
    ):
        dialog = DialogManager(generator=generator, store=store, config=config)
        calls_per_message = []
        for number in range(10):
            tgi.enqueue(Script(reply=f"answer {number} " + "word " * 12))
            before = sum(r.path == "/tokenize" for r in tgi.requests)
            await dialog.handle(message(f"question {number} " + "more " * 10, number)).collect()
            calls_per_message.append(sum(r.path == "/tokenize" for r in tgi.requests) - before)
        history = await store.history(CHAT)
    prompts = [str(r.body["inputs"]) for r in tgi.generation_requests()]
    assert "question 0 " not in prompts[-1] and "question 8 " in prompts[-1]  # history is full
    assert max(calls_per_message) == 1  # only the new message is counted, never the turns
    assert all(turn.tokens is not None and turn.tokens > 12 for turn in history)
