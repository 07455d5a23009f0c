"""The repetition guard reads a streamed reply incrementally yet judges as if reading it whole."""

from __future__ import annotations

from itertools import cycle

from hypothesis import given, settings
from hypothesis import strategies as st

from core.guards.base import GuardSession, Verdict, VerdictKind
from core.guards.repetition import RepetitionGuard

# Pieces of replies: words, sentence ends, line kinds the guard treats apart (list items, table
# rows, fences, indented code), unspaced script, apostrophes and rarer line breaks.
PIECES = [
    "The",
    "sky",
    "is",
    "blue",
    "today",
    "I",
    "like",
    "walking",
    "outside",
    "very",
    "l'",
    "école",
    "3",
    "中",
    "文",
    "a",
    "b",
    " ",
    " ",
    " ",
    ". ",
    ".",
    "!",
    "?!",
    "\u2026",
    "\u3002",
    "\n",
    "\n",
    "\r",
    "\r\n",
    "\u2028",
    "- ",
    "1. ",
    "| ",
    "|",
    "```",
    "    ",
    "\t",
    "'",
    ",",
    "_",
]
EAGER = RepetitionGuard(min_sentence_words=2, ngram_words=4, min_distinct_words=2)
# Remembers only its last 8 words: what it forgets must be forgotten alike, however it is fed.
FORGETFUL = RepetitionGuard(
    min_sentence_words=2, ngram_words=4, min_distinct_words=2, window_words=8
)


@st.composite
def replies(draw: st.DrawFn) -> str:
    """Texts of pieces where a quarter of the pieces copy a stretch of the text so far."""
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 50))):
        so_far = "".join(parts)
        if so_far and draw(st.integers(0, 3)) == 0:
            start = draw(st.integers(0, len(so_far) - 1))
            parts.append(so_far[start : start + draw(st.integers(1, 80))])
        else:
            parts.append(draw(st.sampled_from(PIECES)))
    return "".join(parts)


def session(guard: RepetitionGuard) -> GuardSession:
    return guard.begin(None)  # type: ignore[arg-type]  # the repetition guard needs no context


async def in_one_go(guard: RepetitionGuard, text: str, *, final: bool) -> Verdict:
    return await session(guard).check(text, final=final)


async def assert_streaming_matches_one_go(
    guard: RepetitionGuard, text: str, sizes: list[int]
) -> Verdict:
    """Stream `text` in pieces of `sizes`; every verdict must be the one-go verdict of that text."""
    streamed = session(guard)
    end = 0
    for size in cycle(sizes):
        if end >= len(text):
            break
        end = min(len(text), end + size)
        verdict = await streamed.check(text[:end], final=False)
        assert verdict == await in_one_go(guard, text[:end], final=False), text[:end]
        if verdict.kind is not VerdictKind.PASS:
            break
    verdict = await streamed.check(text, final=True)
    assert verdict == await in_one_go(guard, text, final=True), text
    return verdict


@settings(max_examples=250, derandomize=True, deadline=None)
@given(replies(), st.lists(st.integers(1, 9), min_size=1, max_size=6))
async def test_streamed_verdicts_match_judging_each_text_in_one_go(
    text: str, sizes: list[int]
) -> None:
    await assert_streaming_matches_one_go(RepetitionGuard(), text, sizes)
    await assert_streaming_matches_one_go(EAGER, text, sizes)
    await assert_streaming_matches_one_go(FORGETFUL, text, sizes)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(replies(), replies(), st.integers(0, 200))
async def test_a_text_that_does_not_extend_the_last_one_is_judged_afresh(
    first: str, second: str, keep: int
) -> None:
    # After a resume the guard sees kept text and new tokens; after a cut, a shorter text.
    for guard in (RepetitionGuard(), EAGER, FORGETFUL):
        streamed = session(guard)
        for end in range(1, len(first) + 1):
            await streamed.check(first[:end], final=False)
        rewritten = first[:keep] + second
        for end in range(len(first[:keep]), len(rewritten) + 1, 3):
            verdict = await streamed.check(rewritten[:end], final=False)
            assert verdict == await in_one_go(guard, rewritten[:end], final=False)
        shorter = rewritten[: len(rewritten) // 2]
        verdict = await streamed.check(shorter, final=True)
        assert verdict == await in_one_go(guard, shorter, final=True)


LOOPS = [
    ("The sky is blue today. I like walking outside. " * 3, "repeated_sentence"),
    ("I am a helpful assistant and I am here " * 3, "repeated_phrase"),
    ("Le ciel est bleu aujourd'hui. J'aime l'école et le parc. " * 3, "repeated_sentence"),
    # A line that grows long before its repeat, then more lines.
    ("We went to the market on Monday morning. " * 2 + "\nThen we left.\n", "repeated_sentence"),
    ("今天天气很好我们去公园散步吧。" * 3, "repeated_sentence"),
]


async def test_loops_are_cut_at_the_same_place_streamed_in_any_pieces() -> None:
    for text, reason in LOOPS:
        for sizes in ([1], [4], [3, 7, 1], [50]):
            verdict = await assert_streaming_matches_one_go(RepetitionGuard(), text, sizes)
            assert verdict.kind is VerdictKind.CUT
            assert verdict.reason == reason


async def test_text_held_back_on_a_line_that_turns_out_a_table_row_is_released() -> None:
    text = "The weather will be sunny. Yes | The weather will | no |"
    held_at = text.index("The weather will |")
    for sizes in ([1], [5], [2, 9]):
        streamed = session(RepetitionGuard())
        end = 0
        cleared: list[int | None] = []
        for size in cycle(sizes):
            if end >= len(text):
                break
            end = min(len(text), end + size)
            verdict = await streamed.check(text[:end], final=False)
            assert verdict == await in_one_go(RepetitionGuard(), text[:end], final=False)
            cleared.append(verdict.cleared)
        # The echo of the first sentence was held back while the line was prose...
        assert held_at in cleared
        # ...and released once the second "|" made the line a table row.
        assert cleared[-1] == len(text)


async def test_what_a_line_added_is_forgotten_when_it_turns_out_a_table_row() -> None:
    # The line is prose until its second "|": its sentence must not make the next line a repeat.
    text = "Note a | b. The sky is blue today. Then x | y\nThe sky is blue today. End."
    verdict = await assert_streaming_matches_one_go(RepetitionGuard(), text, [1])
    assert verdict == Verdict.allow(None)
    as_prose = text.replace("x | y", "x y")
    assert (await in_one_go(RepetitionGuard(), as_prose, final=True)).kind is VerdictKind.CUT
