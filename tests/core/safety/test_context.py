"""Context cues: quoted, reported and reclaimed slurs are left to the guard model; insults are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.messages import FinishReason
from core.safety.categories import HATE
from core.safety.wordlists import WordListClassifier, parse_word_list
from tests.core.safety.test_streaming import converse, safety
from tests.fakes.tgi import FakeTGI, Script

COUNTER_SPEECH = "Calling someone a faggot is not OK, and neither is the word “spic”."


@pytest.fixture(scope="module")
def lists() -> WordListClassifier:
    return WordListClassifier()


@pytest.mark.parametrize(
    "text",
    [
        COUNTER_SPEECH,
        "He called me a wetback at school and I reported it.",
        "He called me a wetback spic at school.",
        'Never say "kike", it is a slur.',
        "im a dyke and proud of it",
        "Il m'a traité de sale arabe devant tout le monde.",
        "Me llamó maricón en la calle.",
    ],
)
def test_mentions_and_reclaimed_uses_are_not_hate(lists: WordListClassifier, text: str) -> None:
    language = "fr" if "traité" in text else "es" if "llamó" in text else "en"
    assert HATE not in lists.verdict_now(text, language).categories


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("You are a faggot.", "en"),
        ("those wetbacks should go home", "en"),
        ("Dégage, sale arabe.", "fr"),
        ("Eres un maricón.", "es"),
        ("هؤلاء خنازير", "ar"),
        ("这些黑鬼", "zh"),
    ],
)
def test_slurs_used_as_insults_are_hate(
    lists: WordListClassifier, text: str, language: str
) -> None:
    assert HATE in lists.verdict_now(text, language).categories


@pytest.mark.parametrize(
    ("text", "hate"),
    [
        ("Keep your kitchen spic and span.", False),
        ("The flat was spic-n-span after an hour", False),
        ("spick & span", False),
        ("that spic and his friends", True),
        ("go home spic", True),
        ("spic span spic", True),
    ],
)
def test_a_slur_inside_an_exception_phrase_is_not_hate(
    lists: WordListClassifier, text: str, hate: bool
) -> None:
    assert (HATE in lists.verdict_now(text, "en").categories) is hate


def test_a_word_that_may_begin_an_exception_is_decided_by_what_follows() -> None:
    """Streamed word by word, the verdict on each prefix is that of the prefix judged whole."""
    classifier = WordListClassifier()
    for text in ("Keep it spic and span, always.", "Keep it spic and clean.", "you spic"):
        watcher = classifier.watch("en")
        assert watcher is not None
        for end in range(1, len(text) + 1):
            verdict, shown = watcher.release(text[:end])
            assert not classifier.verdict_now(text[:shown], "en").flagged
            if verdict.flagged:
                assert classifier.verdict_now(text, "en").flagged
        assert watcher.verdict(text) == classifier.verdict_now(text, "en"), text


async def test_a_reply_about_cleaning_reaches_the_user_whole() -> None:
    reply = "Wipe the counters daily and your kitchen stays spic and span."
    async with FakeTGI(default=Script(reply=reply)) as bloom:
        snapshots, shown, _ = await converse(bloom, [safety(WordListClassifier())], "hi", "en")
    assert shown.text == reply and shown.finish_reason is FinishReason.STOP
    assert all(reply.startswith(snapshot) for snapshot in snapshots)


def test_a_cue_too_far_back_excuses_nothing() -> None:
    word_list = parse_word_list("xx", "[hate]\nslurword\n[mention]\ncalled\n")
    classifier = WordListClassifier([word_list])
    assert not classifier.verdict_now("they called two tall slurword", "xx").flagged
    assert classifier.verdict_now("they called two very tall slurword", "xx").flagged


async def test_a_counter_speech_reply_reaches_the_user_whole() -> None:
    async with FakeTGI(default=Script(reply=COUNTER_SPEECH)) as bloom:
        snapshots, reply, _ = await converse(bloom, [safety(WordListClassifier())], "hi", "en")
    assert reply.text == COUNTER_SPEECH
    assert reply.finish_reason is FinishReason.STOP
    assert all(COUNTER_SPEECH.startswith(snapshot) for snapshot in snapshots)


def written_examples() -> list[tuple[str, str, str, str]]:
    path = Path(__file__).parents[2] / "data" / "safety" / "eval.tsv"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            language, label, kind, text = line.split("\t", 3)
            rows.append((language, label, kind, text))
    return rows


def test_written_examples_explicit_and_disguised_caught_hard_negatives_not_hate(
    lists: WordListClassifier,
) -> None:
    for language, label, kind, text in written_examples():
        found = lists.verdict_now(text, language).categories
        if label == "harmful" and kind in ("explicit", "obfuscated"):
            assert found, (language, text)
        if label == "benign":
            # A quoted obscenity is still an obscenity: only slurs have context cues.
            assert HATE not in found, (language, text)
