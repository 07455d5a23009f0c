"""Console I/O: read lines, stream each reply into the terminal as it grows."""

from __future__ import annotations

import asyncio
from typing import TextIO

from adapters.base import Adapter, ChatHandler
from adapters.console.translate import (
    CONSOLE_PLATFORM,
    console_conversation,
    line_to_message,
    terminal_text,
)
from core.messages import ConversationRef, IncomingMessage
from core.notices import FALLBACK_LANGUAGE, notice

PROMPT = "you> "
BOT_LABEL = "bot> "


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
        stream = self.handler.handle(message)
        printed = ""
        if self._interactive:
            self._write(BOT_LABEL)
        try:
            async for shown in stream:
                # Model text may hold terminal escapes: only printable text reaches the terminal.
                snapshot = terminal_text(shown)
                if self._interactive and snapshot.startswith(printed):
                    self._write(snapshot[len(printed) :])
                    printed = snapshot
        finally:
            await stream.aclose()
        reply = stream.reply
        # A terminal shows no Markdown: notices go on their own lines, unstyled.
        final = terminal_text("\n\n".join(part for part in (reply.text, *reply.notices) if part))
        if not self._interactive:
            self._write(final + "\n")
            return
        if final.startswith(printed) and printed:
            self._write(final[len(printed) :] + "\n")
        else:
            # Guards changed the text after part of it was shown: print the final version whole.
            self._write(("\n" + BOT_LABEL if printed else "") + final + "\n")

    def _write(self, text: str) -> None:
        self._output.write(text)
        self._output.flush()
