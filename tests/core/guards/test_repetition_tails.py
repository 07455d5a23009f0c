"""The end of a streamed reply: text that may begin a repeat is held back, a finished repeat cut."""

from __future__ import annotations

from core.guards.base import GuardSession, Verdict, VerdictKind
from core.guards.repetition import RepetitionGuard

TEN_WORDS = "one two three four five six seven eight nine ten"


def session() -> GuardSession:
    return RepetitionGuard().begin(None)  # type: ignore[arg-type]  # it needs no context


async def test_a_tail_that_echoes_earlier_words_is_held_back() -> None:
    text = "We went to the old market and then we went to the old "
    verdict = await session().check(text, final=False)
    assert verdict == Verdict.allow(text.index("we went"))


async def test_an_unspaced_tail_that_echoes_earlier_characters_is_held_back() -> None:
    # The last character is a word still open (more may follow it), judged afresh each call.
    text = "我们去市场我们去市"
    verdict = await session().check(text, final=False)
    assert verdict == Verdict.allow(len("我们去市场"))


async def test_a_tail_of_fresh_words_is_shown() -> None:
    text = "We went to the old market and then we bought some fresh bread "
    verdict = await session().check(text, final=False)
    assert verdict == Verdict.allow(len(text))


async def test_a_reply_ending_on_the_last_word_of_a_repeated_phrase_is_cut() -> None:
    text = f"{TEN_WORDS} and {TEN_WORDS}"
    streamed = session()
    # Streaming, the last word may still grow ("tenth"): the repeat is not complete yet.
    assert (await streamed.check(text, final=False)).kind is VerdictKind.PASS
    verdict = await streamed.check(text, final=True)
    assert verdict == Verdict.cut(len(f"{TEN_WORDS} and"), reason="repeated_phrase")
