"""Where a console reply is printed: growing in place on a terminal, one finished line when piped."""

from __future__ import annotations

from collections.abc import Callable

from adapters.console.translate import terminal_text
from adapters.markdown import RenderedMessage
from core.messages import Reply

BOT_LABEL = "bot> "

# A console reply is one message; its id only satisfies the sink protocols.
_MESSAGE_ID = "reply"

Write = Callable[[str], None]


class LiveReply:
    """`AppendSink` for a terminal: after `BOT_LABEL` the reply grows as its text arrives.

    Printed text cannot be taken back: when the guards change text already printed, the
    rest of the stream is not shown and the final text is printed whole on a line of its own.
    Model text may hold terminal escapes: only printable text is written.
    """

    def __init__(self, write: Write) -> None:
        self._write = write
        self._labelled = False
        self._line_open = False  # text printed on the current line, not yet ended
        self._ended = False

    async def label(self) -> None:
        """Show that the bot is answering (the waiting signal); printed once per reply."""
        if not self._labelled:
            self._write(BOT_LABEL)
            self._labelled = True

    async def open(self, markdown: str) -> str:
        await self.label()
        self._print(markdown)
        return _MESSAGE_ID

    async def append(self, message_id: str, markdown: str) -> None:
        self._print(markdown)

    async def close(self, message_id: str, *, final: Reply | None) -> None:
        # Closed without a final reply: the text changed and `update` will print it whole.
        if final is not None:
            self.end_line()

    async def post(self, message: RenderedMessage, *, final: Reply | None) -> str:
        await self.label()
        self._print(message.text)
        self.end_line()
        return _MESSAGE_ID

    async def update(
        self, message_id: str, message: RenderedMessage, *, final: Reply | None
    ) -> None:
        if final is None:
            return  # a terminal cannot rewrite a line: the corrected text waits for the end
        if self._line_open:
            self._write("\n" + BOT_LABEL)
        self._print(message.text)
        self.end_line()

    async def remove(self, message_id: str) -> None:
        """Printed text stays; the reply's line is still ended by `end_line`."""

    def end_line(self) -> None:
        """End the reply's line, once; a reply with nothing printed still gets its line."""
        if self._ended:
            return
        if not self._labelled:
            self._write(BOT_LABEL)
            self._labelled = True
        self._write("\n")
        self._line_open = False
        self._ended = True

    def _print(self, text: str) -> None:
        self._write(terminal_text(text))
        self._line_open = True


class PipedReply:
    """`MessageSink` for piped output: each reply is written once, finished, on its own line.

    Intermediate text is never written, so a script reading the output gets one reply per
    input line (a reply's own line breaks aside).
    """

    def __init__(self, write: Write) -> None:
        self._write = write
        self._ended = False

    async def post(self, message: RenderedMessage, *, final: Reply | None) -> str:
        if final is not None:
            self._finish(message.text)
        return _MESSAGE_ID

    async def update(
        self, message_id: str, message: RenderedMessage, *, final: Reply | None
    ) -> None:
        if final is not None:
            self._finish(message.text)

    async def remove(self, message_id: str) -> None:
        """Nothing intermediate was written, so there is nothing to take back."""

    async def preview(self, index: int, message: RenderedMessage) -> bool:
        return False

    def end_line(self) -> None:
        """Write an empty line for a reply that showed nothing, so lines stay one per reply."""
        if not self._ended:
            self._finish("")

    def _finish(self, text: str) -> None:
        self._write(terminal_text(text) + "\n")
        self._ended = True
