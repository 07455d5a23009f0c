"""Console I/O: read lines, stream each reply through the shared delivery into the terminal."""

from __future__ import annotations

import asyncio
import math
import sys
from typing import TextIO

from adapters.base import Adapter, ChatHandler
from adapters.capabilities import Capabilities, LengthUnit, MarkdownDialect
from adapters.console.sink import LiveReply, PipedReply
from adapters.console.translate import CONSOLE_PLATFORM, console_conversation, line_to_message
from adapters.markdown import PassthroughRenderer
from adapters.streaming import ReplyTarget, StreamingDelivery
from core.messages import ConversationRef, IncomingMessage
from core.notices import FALLBACK_LANGUAGE, notice

PROMPT = "you> "

# A terminal takes a reply of any length as one message, shows no formatting, pings nobody
# and has no rate limit: the shared delivery never splits, styles, neutralises or waits.
CONSOLE_CAPABILITIES = Capabilities(
    platform=CONSOLE_PLATFORM,
    max_message_length=sys.maxsize,
    length_unit=LengthUnit.CODEPOINTS,
    markdown=MarkdownDialect.PLAIN,
    private_edit_interval=0.0,
    group_edit_interval=0.0,
    global_calls_per_second=math.inf,
    notifies_mentions=False,
)


class ConsoleAdapter(Adapter):
    """Reads one message per line; on a terminal the reply grows in place, else one reply per line.

    Streams are injectable so tests and scripts drive it without a terminal.
    """

    platform = CONSOLE_PLATFORM

    def __init__(
        self,
        handler: ChatHandler,
        *,
        input_stream: TextIO,
        output_stream: TextIO,
        interactive: bool | None = None,
        user: str = "console-user",
        locale_hint: str | None = None,
        conversation: ConversationRef | None = None,
    ) -> None:
        super().__init__(handler)
        self._input = input_stream
        self._output = output_stream
        self._interactive = input_stream.isatty() if interactive is None else interactive
        self._user = user
        self._locale_hint = locale_hint
        self._conversation = conversation or console_conversation()
        self._running = False
        self._delivery = StreamingDelivery(CONSOLE_CAPABILITIES, PassthroughRenderer())

    @property
    def connected(self) -> bool:
        """True while the console is reading input."""
        return self._running

    async def run(self) -> None:
        """Answer lines until end of input."""
        self._running = True
        try:
            await self._read_lines()
        finally:
            self._running = False

    async def _read_lines(self) -> None:
        number = 0
        while True:
            if self._interactive:
                self._write(PROMPT)
            # Reading a terminal blocks; a worker thread keeps the event loop free meanwhile.
            line = await asyncio.to_thread(self._input.readline)
            if not line:
                return
            number += 1
            message = line_to_message(
                line,
                number=number,
                conversation=self._conversation,
                user=self._user,
                locale_hint=self._locale_hint,
            )
            if message is not None:
                await self._answer(message)
            elif self._interactive:
                # Nothing visible on the line: a hint on a terminal; piped, the line is skipped.
                self._write(notice("empty_message", self._locale_hint or FALLBACK_LANGUAGE) + "\n")

    async def _answer(self, message: IncomingMessage) -> None:
        sink: LiveReply | PipedReply
        if self._interactive:
            sink = LiveReply(self._write)
            target = ReplyTarget(self._conversation, sink, waiting_signal=sink.label)
        else:
            sink = PipedReply(self._write)
            target = ReplyTarget(self._conversation, sink)
        await self._delivery.deliver(message, self.handler.handle(message), target)
        sink.end_line()

    def _write(self, text: str) -> None:
        self._output.write(text)
        self._output.flush()
