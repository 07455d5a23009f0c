"""Stop-text trimming shared by every backend: stop texts never reach the caller, not even in part.

Servers such as TGI keep the stop text in their output and only notice it on token boundaries,
so a backend passes its raw tokens through `trim_stop_text`. Text that could be the start of a
stop text is held back until the following tokens show whether it is one.

Besides the caller's stop texts, BLOOMChat's turn markers stop a reply in any spelling the model
writes them (`<bot>:`, `<Human>:`, `<human> :`, `</s>`): the model has started another turn,
and nothing after the marker is part of this reply.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterable, Iterable
from contextlib import aclosing, nullcontext

from core.generation.base import Token

STOP_SEQUENCE = "stop_sequence"

# A turn marker in any case and spacing: `<human>:`, `< Bot > :`, `</s>`, `</ s >`.
_TURN_MARKER = re.compile(r"<\s*(?:(?:human|bot)\s*>\s*:|/\s*s\s*>)", re.IGNORECASE)
# Every text that may still grow into a turn marker (whole, from its "<").
_TURN_MARKER_START = re.compile(
    r"<\s*(?:/\s*(?:s\s*)?|h|hu|hum|huma|b|bo|(?:human|bot)\s*(?:>\s*)?)?", re.IGNORECASE
)


class StopTextTrimmer:
    """Feeds on text pieces and returns what is safe to show; `stopped` once a stop text appeared."""

    def __init__(self, stops: Iterable[str], *, turn_markers: bool = True) -> None:
        self._stops = tuple(stop for stop in stops if stop)
        self._turn_markers = turn_markers
        # Every stop text and marker, and every start of one, holds one of these characters.
        openers = {stop[0] for stop in self._stops} | ({"<"} if turn_markers else set())
        self._openers = tuple(openers)
        self._held = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """The part of `held + text` that is certainly not (the start of) a stop text."""
        if self.stopped:
            return ""
        if not self._held and not any(opener in text for opener in self._openers):
            return text  # the usual token: nothing held, nothing that could begin a stop text
        buffer = self._held + text
        found = [i for i in (buffer.find(stop) for stop in self._stops) if i >= 0]
        if self._turn_markers and (marker := _TURN_MARKER.search(buffer)) is not None:
            found.append(marker.start())
        cut = min(found, default=-1)
        if cut >= 0:
            self.stopped = True
            self._held = ""
            return buffer[:cut]
        keep = self._undecided_tail(buffer)
        self._held = buffer[len(buffer) - keep :]
        return buffer[: len(buffer) - keep]

    def flush(self) -> str:
        """At the end of the stream: the held-back text, which never became a stop text."""
        held, self._held = self._held, ""
        return "" if self.stopped else held

    def _undecided_tail(self, buffer: str) -> int:
        """Length of the longest end of `buffer` that begins some stop text."""
        longest = 0
        if self._turn_markers:
            # A marker holds one "<": only text from the last one can still become a marker.
            opening = buffer.rfind("<")
            if opening >= 0 and _TURN_MARKER_START.fullmatch(buffer, opening):
                longest = len(buffer) - opening
        for stop in self._stops:
            if stop[0] not in buffer[1 - len(stop) :]:
                continue  # a tail that begins the stop text would begin with its first character
            for size in range(min(len(stop) - 1, len(buffer)), longest, -1):
                if buffer.endswith(stop[:size]):
                    longest = size
                    break
        return longest


async def trim_stop_text(
    tokens: AsyncIterable[Token], stops: Iterable[str], *, turn_markers: bool = True
) -> AsyncGenerator[Token, None]:
    """Visible tokens of a raw token stream: stop texts, turn markers and special tokens removed.

    The last token yielded carries the finish reason: the upstream one, or "stop_sequence" when a
    stop text appeared (the upstream stream is then closed, which stops the generation). If the
    upstream ends without a finish reason, the held-back text is yielded without one.
    """
    trimmer = StopTextTrimmer(stops, turn_markers=turn_markers)
    stream = aiter(tokens)
    async with aclosing(stream) if isinstance(stream, AsyncGenerator) else nullcontext():
        async for token in stream:
            visible = "" if token.special else trimmer.feed(token.text)
            if trimmer.stopped:
                yield Token(text=visible, id=token.id, finish_reason=STOP_SEQUENCE)
                return
            if token.finish_reason is not None:
                visible += trimmer.flush()
                yield Token(text=visible, id=token.id, finish_reason=token.finish_reason)
                return
            if visible:
                # The usual case, nothing held back or cut: the token as it came.
                yield token if visible == token.text else Token(text=visible, id=token.id)
        rest = trimmer.flush()
        if rest:
            yield Token(text=rest)
