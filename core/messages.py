"""The core message model: conversations, senders, incoming messages, turns and replies."""

from __future__ import annotations

import enum
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote


def _key_part(value: str | None) -> str:
    # Percent-encode so that a ":" inside an id can never make two conversations share a key.
    # "-" marks a missing part, so a part that is literally "-" is encoded as well.
    if value is None:
        return "-"
    return "%2D" if value == "-" else quote(value, safe="")


class PlaceKind(enum.StrEnum):
    """The kind of place a conversation happens in; platforms pace and address replies by it."""

    PRIVATE = "private"  # a one-to-one chat with the bot (direct message)
    GROUP = "group"  # a chat or channel shared by several people
    THREAD = "thread"  # a thread or forum topic inside a shared channel


@dataclass(frozen=True)
class ConversationRef:
    """Where a message lives: platform, space (Slack team, Discord guild), channel, thread.

    `kind` says what sort of place it is; it describes the place rather than naming it, so
    it takes no part in equality or in `key` (a ref built without it names the same place).
    """

    platform: str
    space: str | None
    channel: str
    thread: str | None = None
    kind: PlaceKind = field(default=PlaceKind.GROUP, compare=False)

    @property
    def is_private(self) -> bool:
        """True for a one-to-one chat with the bot."""
        return self.kind is PlaceKind.PRIVATE

    @property
    def key(self) -> str:
        """A stable string naming this conversation in every store record."""
        parts = (self.platform, self.space, self.channel, self.thread)
        return ":".join(_key_part(part) for part in parts)


@dataclass(frozen=True)
class Sender:
    """Who wrote a message; `locale_hint` is the platform's language tag for the user, if any."""

    id: str
    display_name: str = ""
    is_bot: bool = False
    locale_hint: str | None = None


@dataclass(frozen=True)
class IncomingMessage:
    """A platform message normalized for the dialog manager; `text` has the bot mention removed."""

    id: str
    conversation: ConversationRef
    sender: Sender
    text: str
    sent_at: datetime
    addressed_to_bot: bool = True
    reply_to: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Turn:
    """One exchange kept in history: what a sender said and what the bot answered."""

    user_text: str
    reply_text: str
    sender_id: str
    language: str = "und"
    reply_id: str = ""
    at: float = 0.0
    # Tokens of the turn as rendered in a prompt, counted once when it is saved, so building a
    # prompt from a full history does not ask the tokenizer again. None: not counted.
    tokens: int | None = None


class FinishReason(enum.StrEnum):
    """Why a reply ended."""

    STOP = "stop"  # the model finished (end of sequence or stop text)
    LENGTH = "length"  # max_new_tokens reached
    CUT = "cut"  # a guard ended the reply early at a clean point
    REPLACED = "replaced"  # a guard replaced the reply (e.g. a safety refusal)
    INTERRUPTED = "interrupted"  # the stream broke after text was shown
    COMMAND = "command"  # the answer to a bot command, not a model reply
    REJECTED = "rejected"  # the message could not be answered (too long, not allowed)
    ERROR = "error"  # the model could not be reached; the text explains


# Characters that start Markdown syntax anywhere: emphasis, code, links, HTML and autolinks,
# tables, strikethrough, and the LaTeX some renderers read between dollars.
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>|~$])")
# Characters that start Markdown syntax at the start of a line only: lists and headings.
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([-+#]|\d+(?=[.)]))", re.MULTILINE)


def markdown_literal(text: str) -> str:
    """`text` escaped so that a CommonMark renderer shows it exactly as written.

    Only what could start syntax is escaped (a hyphen inside a word stays as it is), so
    renderers that show a stray backslash show as few as possible.
    """
    escaped = _MARKDOWN_INLINE.sub(r"\\\1", text)
    return _MARKDOWN_LINE_START.sub(_escape_line_start, escaped)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    if marker[0].isdigit():
        return f"{indent}{marker}\\"  # escapes the "." or ")" after it: "1\." is no list item
    return f"{indent}\\{marker}"


@dataclass(frozen=True)
class Reply:
    """The final state of a reply: model text, its language and the bot's own notices."""

    text: str
    language: str
    finish_reason: FinishReason
    notices: tuple[str, ...] = ()
    id: str = ""

    @property
    def display_text(self) -> str:
        """The text a user should see, as Markdown: the reply, then notices in italics.

        Notices and command answers are the bot's plain text (they may quote the user, e.g. an
        unknown `/lang` argument), so their Markdown characters are escaped: a quoted
        `[label](url)` never becomes a link. Model text is Markdown already.
        """
        notice_lines = "\n".join(f"_{markdown_literal(notice)}_" for notice in self.notices)
        text = self.text
        if self.finish_reason is FinishReason.COMMAND:
            text = markdown_literal(text)
        if not text:
            return notice_lines
        return f"{text}\n\n{notice_lines}" if notice_lines else text

    @property
    def plain_text(self) -> str:
        """The text a user should see where nothing is formatted: the reply, then each notice.

        Every part is a paragraph of its own, shown exactly as written (nothing escaped).
        """
        return "\n\n".join(part for part in (self.text, *self.notices) if part)


ReplyEvent = str | Reply


class ReplyStream:
    """Async iterator of growing text snapshots; `reply` holds the final Reply afterwards.

    Each snapshot is the whole text to show so far (never a delta) and has passed every guard.
    Closing the stream early (`aclose`) stops generation on the model server.
    """

    def __init__(self, events: AsyncIterator[ReplyEvent]) -> None:
        self._events = events
        self._reply: Reply | None = None

    @classmethod
    def of(cls, reply: Reply) -> ReplyStream:
        """A stream with no snapshots that ends at once with `reply` (commands, refusals)."""

        async def events() -> AsyncIterator[ReplyEvent]:
            yield reply

        return cls(events())

    def __aiter__(self) -> ReplyStream:
        return self

    async def __anext__(self) -> str:
        if self._reply is not None:
            raise StopAsyncIteration
        event = await self._events.__anext__()
        if isinstance(event, Reply):
            self._reply = event
            raise StopAsyncIteration
        return event

    @property
    def reply(self) -> Reply:
        """The final reply; only available once iteration has ended."""
        if self._reply is None:
            raise RuntimeError("the reply stream has not finished yet")
        return self._reply

    async def collect(self) -> Reply:
        """Consume every snapshot and return the final reply."""
        async for _ in self:
            pass
        return self.reply

    async def aclose(self) -> None:
        """Stop the stream early; generation on the server is cancelled."""
        aclose = getattr(self._events, "aclose", None)
        if aclose is not None:
            await aclose()
