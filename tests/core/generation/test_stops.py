"""Stop texts never reach the caller, not even their first characters."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest

from core.generation.base import HUMAN_STOP, Token
from core.generation.stops import StopTextTrimmer, trim_stop_text


def feed_all(pieces: list[str], stops: tuple[str, ...] = (HUMAN_STOP,)) -> list[str]:
    trimmer = StopTextTrimmer(stops)
    shown = [trimmer.feed(piece) for piece in pieces]
    return [*shown, trimmer.flush()]


def test_stop_text_split_over_tokens_is_cut_and_nothing_of_it_is_shown() -> None:
    shown = feed_all(["Yes", ".\n<", "hu", "man", ">", ": next"])
    assert shown == ["Yes", ".\n", "", "", "", "", ""]


def test_a_held_prefix_that_turns_out_not_to_be_a_stop_is_released_whole() -> None:
    shown = feed_all(["a <", "hum", "an", " b"])
    assert shown == ["a ", "", "", "<human b", ""]
    assert "".join(shown) == "a <human b"


def test_text_after_a_stop_inside_one_token_is_dropped() -> None:
    trimmer = StopTextTrimmer([HUMAN_STOP])
    assert trimmer.feed("Done.<human>: and more") == "Done."
    assert trimmer.stopped
    assert trimmer.feed("ignored") == "" and trimmer.flush() == ""


def test_end_of_stream_flushes_an_unfinished_prefix() -> None:
    assert feed_all(["cost < 5 <hu"]) == ["cost < 5 ", "<hu"]


def test_a_stop_text_not_beginning_with_a_bracket_is_cut_across_tokens_too() -> None:
    # Plain tokens pass untouched; the stop's first character makes the trimmer look closer.
    shown = feed_all(["Plain", " text #", "#", "# after"], stops=("###",))
    assert shown == ["Plain", " text ", "", "", ""]
    assert feed_all(["a #", "b"], stops=("###",)) == ["a ", "#b", ""]


def test_earliest_of_several_stops_wins() -> None:
    trimmer = StopTextTrimmer(["</s>", HUMAN_STOP])
    assert trimmer.feed("ok<human>: x</s>") == "ok"


async def tokens(*items: Token) -> AsyncGenerator[Token, None]:
    for item in items:
        yield item


async def test_trimmed_stream_skips_special_tokens_and_ends_with_the_finish_reason() -> None:
    raw = tokens(
        Token("Hi", 1),
        Token(" <", 2),
        Token("x", 3),
        Token("</s>", 2, special=True, finish_reason="eos_token"),
    )
    out = [token async for token in trim_stop_text(raw, [HUMAN_STOP])]
    assert [t.text for t in out] == ["Hi", " ", "<x", ""]
    assert out[-1].finish_reason == "eos_token"
    assert all(t.finish_reason is None for t in out[:-1])


async def test_trimmed_stream_stops_at_the_stop_text_and_closes_the_upstream() -> None:
    closed = False

    async def upstream() -> AsyncGenerator[Token, None]:
        nonlocal closed
        try:
            for piece in ["Fine", ".", "<human>:", " more", " text"]:
                yield Token(piece)
        finally:
            closed = True

    out = [token async for token in trim_stop_text(upstream(), [HUMAN_STOP])]
    assert [(t.text, t.finish_reason) for t in out] == [
        ("Fine", None),
        (".", None),
        ("", "stop_sequence"),
    ]
    assert closed


@pytest.mark.parametrize(
    ("pieces", "shown"),
    [
        (["Sure.", "\n<", "bot", ">", ":", " again"], "Sure.\n"),
        (["Yes.", " <Human>:", " hi"], "Yes. "),
        (["Yes.", "\n<human", "> ", ":", " hi"], "Yes.\n"),
        (["Done", "</", "s", ">", "<s>more"], "Done"),
        (["Done", "< / S >", "more"], "Done"),
        (["a < b and <bot", "tle>: c"], "a < b and <bottle>: c"),
        (["x <human> is a tag"], "x <human> is a tag"),
        (["<b", "old> text"], "<bold> text"),
    ],
)
def test_turn_marker_variants_stop_the_reply_and_nothing_after_them_is_shown(
    pieces: list[str], shown: str
) -> None:
    assert "".join(feed_all(pieces, stops=())) == shown


def test_no_part_of_a_marker_variant_is_shown_before_it_is_recognised() -> None:
    shown = feed_all(["Fine", " <", "Bot", " >", " :", " more"], stops=())
    assert shown == ["Fine", " ", "", "", "", "", ""]


def test_turn_markers_can_be_left_to_the_caller() -> None:
    trimmer = StopTextTrimmer([], turn_markers=False)
    assert trimmer.feed("a <bot>: b") == "a <bot>: b"
