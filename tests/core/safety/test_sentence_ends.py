"""Replies in scripts with their own sentence marks are released sentence by sentence."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from core.dialog import DialogManager
from core.generation.tgi import TgiGenerator
from core.messages import ConversationRef, IncomingMessage, ReplyStream, Sender
from core.safety.chunks import next_checkpoint
from core.safety.wordlists import WordListClassifier
from core.store.memory import MemoryStore
from tests.core.safety.guard_fakes import llama_guard_responder
from tests.core.safety.test_streaming import guard_client, safety
from tests.fakes.tgi import FakeTGI, Script, fake_tokenize

SENTENCES = {
    "hi": ("यह पहला वाक्य है।", "दूसरा वाक्य अभी लिखा जा रहा है और"),
    "ar": ("هل هذا هو السؤال الأول؟", "والجملة الثانية ما زالت تكتب"),
    "ur": ("یہ پہلا جملہ ہے\u06d4", "دوسرا جملہ ابھی لکھا جا رہا ہے"),
    "zh": ("这是第一句话。", "第二句话还在写"),
}


async def collect(stream: ReplyStream) -> list[str]:
    return [snapshot async for snapshot in stream]


@pytest.mark.parametrize(
    "mark",
    ["\u0964", "\u0965", "\u061f", "\u060c", "\u061b", "\u06d4", "\u3002", "\uff01", "\uff1f"],
)
def test_every_scripts_sentence_mark_is_a_checkpoint(mark: str) -> None:
    text = f"abc{mark}def"
    assert next_checkpoint(text, 0, 200) == 4


@pytest.mark.parametrize("language", sorted(SENTENCES))
async def test_a_reply_is_judged_at_its_first_sentence_end(language: str) -> None:
    """The guard model is asked about the first sentence while the model is still writing."""
    first, rest = SENTENCES[language]
    reply = first + rest
    release = asyncio.Event()
    async with (
        FakeTGI(responder=llama_guard_responder()) as guard_server,
        FakeTGI(
            default=Script(reply=reply, hang=release, hang_after=len(fake_tokenize(reply)) - 1)
        ) as bloom,
        TgiGenerator(bloom.url) as generator,
    ):
        guard = safety(WordListClassifier(), guard_client(guard_server.url), chunk_chars=200)
        dialog = DialogManager(generator=generator, store=MemoryStore(), guards=[guard])
        message = IncomingMessage(
            id="1",
            conversation=ConversationRef("test", None, "c1"),
            sender=Sender(id="u1", locale_hint=language),
            text="?",
            sent_at=datetime.now(UTC),
        )
        stream = dialog.handle(message)
        reading = asyncio.create_task(collect(stream))
        # The model stops before its last token: only the sentence end can have been judged.
        await guard_server.wait_for_requests(2)
        judged = [
            request.body["inputs"].split("Agent: ")[-1].split("\n\n<END CONVERSATION>")[0]
            for request in guard_server.generation_requests()
        ]
        assert judged[1] == first
        release.set()
        shown = await reading
        await guard.policy.aclose()
    assert stream.reply.text == reply
    assert all(reply.startswith(snapshot) for snapshot in shown)
