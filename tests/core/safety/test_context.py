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
NAMED_SLUR = "Chink is a racist slur. Please do not use it in this channel."


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


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Faggot is a slur, so please do not use it here.", "en"),
        ("Spic is an ethnic slur and chink isn't a word for anyone.", "en"),
        ("bougnoule est une insulte raciste, on ne le dit pas", "fr"),
        ("Sudaca es un insulto racista.", "es"),
        ("Viado é um xingamento e ninguém deve usá-lo.", "pt"),
    ],
)
def test_a_slur_named_before_saying_what_it_is_is_not_hate(
    lists: WordListClassifier, text: str, language: str
) -> None:
    assert HATE not in lists.verdict_now(text, language).categories


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("That faggot is a liar.", "en"),
        ("Shut up, faggot, and leave.", "en"),
        ("the spic is racist", "en"),
        ("ce bougnoule est un voleur", "fr"),
    ],
)
def test_a_slur_followed_by_anything_else_is_hate(
    lists: WordListClassifier, text: str, language: str
) -> None:
    assert HATE in lists.verdict_now(text, language).categories


def test_a_slur_that_may_be_named_is_decided_by_the_words_after_it() -> None:
    """Streamed letter by letter: until the watcher flags it, what it shows is clean."""
    classifier = WordListClassifier()
    for text, hate in (
        ("Faggot is a slur, never use it.", False),
        ("Faggot is a liar, never trust him.", True),
        ("you faggot", True),
    ):
        watcher = classifier.watch("en")
        assert watcher is not None
        for end in range(1, len(text) + 1):
            verdict, shown = watcher.release(text[:end])
            if verdict.flagged:
                assert classifier.verdict_now(text, "en").flagged
            else:
                assert not classifier.verdict_now(text[:shown], "en").flagged
        assert (HATE in watcher.verdict(text).categories) is hate, text


def test_operator_lists_bring_their_own_cues_after_a_slur() -> None:
    word_list = parse_word_list("xx", "[hate]\nslurword\n[mention after]\nis a slur\n")
    classifier = WordListClassifier([word_list])
    assert not classifier.verdict_now("slurword is a slur", "xx").flagged
    assert classifier.verdict_now("slurword is a sailor", "xx").flagged
    assert classifier.verdict_now("is a slur slurword", "xx").flagged


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


async def test_a_reply_naming_a_slur_before_saying_what_it_is_reaches_the_user_whole() -> None:
    async with FakeTGI(default=Script(reply=NAMED_SLUR)) as bloom:
        snapshots, reply, _ = await converse(bloom, [safety(WordListClassifier())], "hi", "en")
    assert reply.text == NAMED_SLUR
    assert reply.finish_reason is FinishReason.STOP
    assert all(NAMED_SLUR.startswith(snapshot) for snapshot in snapshots)


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
