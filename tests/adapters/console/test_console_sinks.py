"""Console replies through the shared delivery: growing on a terminal, one line when piped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from adapters.console.adapter import CONSOLE_CAPABILITIES
from adapters.console.sink import BOT_LABEL, LiveReply, PipedReply
from adapters.console.translate import console_conversation, line_to_message
from adapters.markdown import PassthroughRenderer, RenderedMessage
from adapters.streaming import ReplyTarget, StreamingDelivery
from core.errors import StoreError
from core.messages import FinishReason, Reply, ReplyEvent, ReplyStream
from core.notices import notice

CONVERSATION = console_conversation()


class Terminal:
    """What was written; `wait_for` lets a scripted stream go on only once text is shown."""

    def __init__(self) -> None:
        self.text = ""
        self._written = asyncio.Event()

    def write(self, text: str) -> None:
        self.text += text
        self._written.set()

    async def wait_for(self, text: str) -> None:
        while text not in self.text:
            self._written.clear()
            await self._written.wait()


async def show(
    terminal: Terminal, events: AsyncIterator[ReplyEvent], *, live: bool
) -> tuple[str, Reply]:
    message = line_to_message("question\n", number=1, conversation=CONVERSATION, user="u")
    assert message is not None
    sink: LiveReply | PipedReply
    if live:
        sink = LiveReply(terminal.write)
        target = ReplyTarget(CONVERSATION, sink, waiting_signal=sink.label)
    else:
        sink = PipedReply(terminal.write)
        target = ReplyTarget(CONVERSATION, sink)
    delivery = StreamingDelivery(CONSOLE_CAPABILITIES, PassthroughRenderer())
    reply = await delivery.deliver(message, ReplyStream(events), target)
    sink.end_line()
    return terminal.text, reply


async def test_a_terminal_reply_grows_and_its_notice_follows_as_written() -> None:
    terminal = Terminal()

    async def events() -> AsyncIterator[ReplyEvent]:
        yield "Use"
        await terminal.wait_for("Use")
        yield "Use `ls -l` for @everyone"
        yield Reply("Use `ls -l` for @everyone", "en", FinishReason.STOP, ("a *note*",))

    shown, _ = await show(terminal, events(), live=True)
    # Mentions ping nobody on a terminal and notices are not styled: both stay as written.
    assert shown == f"{BOT_LABEL}Use `ls -l` for @everyone\n\na *note*\n"


async def test_text_changed_after_it_was_printed_is_printed_whole_on_a_new_line() -> None:
    terminal = Terminal()

    async def events() -> AsyncIterator[ReplyEvent]:
        yield "The answer is wrong"
        await terminal.wait_for("wrong")
        yield "The answer"
        yield "The answer is four"
        yield Reply("The answer is four.", "en", FinishReason.CUT)

    shown, _ = await show(terminal, events(), live=True)
    assert shown == f"{BOT_LABEL}The answer is wrong\n{BOT_LABEL}The answer is four.\n"


async def test_a_failed_stream_ends_its_line_with_a_notice_instead_of_ending_the_session() -> None:
    terminal = Terminal()

    async def events() -> AsyncIterator[ReplyEvent]:
        yield "Half an"
        await terminal.wait_for("Half an")
        raise StoreError("the store went away")

    shown, reply = await show(terminal, events(), live=True)
    assert reply.finish_reason is FinishReason.INTERRUPTED
    assert shown == f"{BOT_LABEL}Half an\n\n{notice('interrupted', 'en')}\n"


async def test_piped_output_is_the_final_text_only_unescaped_and_one_line_per_reply() -> None:
    terminal = Terminal()
    answer = Reply("/reset - forget [all]", "en", FinishReason.COMMAND)

    shown, _ = await show(terminal, aiter_of("partial", answer), live=False)
    assert shown == "/reset - forget [all]\n"
    # Text that is not final is never written when piped.
    await PipedReply(terminal.write).post(RenderedMessage("more", "more"), final=None)
    assert terminal.text == shown
    empty, _ = await show(Terminal(), aiter_of(Reply("", "en", FinishReason.STOP)), live=False)
    assert empty == "\n"


async def aiter_of(*events: ReplyEvent) -> AsyncIterator[ReplyEvent]:
    for event in events:
        yield event
