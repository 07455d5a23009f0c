"""The safety guard reads a streamed reply incrementally yet judges each checkpoint as a whole."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import cycle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.generation.base import GenerationParams
from core.guards.base import GuardContext, Verdict, VerdictKind
from core.messages import ConversationRef, IncomingMessage, Sender
from core.safety.base import TextWatcher
from core.safety.chunks import (
    _SPACED_LETTERS,
    CheckpointFinder,
    _retreat_from_spaced_letters,
    next_checkpoint,
)
from core.safety.guard import SafetyGuard
from core.safety.normalize import TokenStream, restart_point, word_tokens
from core.safety.policy import SafetyPolicy
from core.safety.wordlists import WordListClassifier, bundled_word_lists

TERMS = sorted({entry.term for word_list in bundled_word_lists() for entry in word_list.entries})
# Pieces that exercise normalisation and tokenising: leetspeak, invisible and wide forms,
# combining marks, ligatures, look-alike letters, unspaced scripts and the characters after
# which tokenising restarts, and the context cues and opening quotes that excuse a slur.
PIECES = [
    *"abcdfiklnostu",
    "word",
    "called",
    "im a",
    "traité de",
    " and span",
    "span",
    "en retard",
    '"',
    "\u201c",
    "\u00ab",
    "the",
    "sh1t",
    "f4g",
    "é",
    "e\u0301",
    "\u0301",
    "\u00a8",
    "\u200b",
    "\uff46",
    "\ufb01",
    "\u0430",
    "\u00df",
    "\u03a3",
    "\u0627\u064b",
    "\u0e01",
    "\u4e2d",
    "\u6587",
    "0",
    "1",
    "3",
    "!",
    "|",
    "@",
    "$",
    "-",
    "_",
    ".",
    ". ",
    "\n",
    "\t",
    "\u00a0",
    "\u3000",
    "\u3001",
    "\u3002",
    "\uff0c",
    "\uff01",
    " ",
    " ",
    " ",
]
LANGUAGES = ["en", "fr", "es", "zh", "und", "sw"]


@st.composite
def replies(draw: st.DrawFn) -> str:
    """Texts of pieces with list entries, written plainly or spelled out letter by letter."""
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 40))):
        if draw(st.integers(0, 9)) == 0:
            term = draw(st.sampled_from(TERMS))
            separator = draw(st.sampled_from(["", " ", ".", " - "]))
            parts.append(separator.join(term) if separator else term)
        else:
            parts.append(draw(st.sampled_from(PIECES)))
    return "".join(parts)


sizes = st.lists(st.integers(1, 12), min_size=1, max_size=5)


def prefixes(text: str, steps: list[int]) -> list[str]:
    ends: list[int] = []
    for step in cycle(steps):
        if ends and ends[-1] >= len(text):
            return [text[:end] for end in ends]
        ends.append(min(len(text), (ends[-1] if ends else 0) + step))
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def classifier() -> WordListClassifier:
    return WordListClassifier()


def watch(classifier: WordListClassifier, language: str) -> TextWatcher:
    watcher = classifier.watch(language)
    assert watcher is not None
    return watcher


@settings(max_examples=300, derandomize=True, deadline=None)
@given(replies(), sizes, st.booleans())
def test_tokenising_in_parts_gives_the_tokens_of_the_whole(
    text: str, steps: list[int], fold_accents: bool
) -> None:
    stream = TokenStream(fold_accents=fold_accents)
    settled: list[tuple[str, ...]] = []
    read = 0
    for prefix in prefixes(text, steps):
        point = restart_point(prefix, read, len(prefix))
        settled += stream.settle(prefix[read:point])
        read = point
        expected = word_tokens(prefix, fold_accents=fold_accents)
        assert settled + stream.rest(prefix[read:]) == expected, prefix


@settings(max_examples=300, derandomize=True, deadline=None)
@given(replies(), sizes, st.sampled_from(LANGUAGES))
def test_watched_verdicts_match_judging_each_text_whole(
    classifier: WordListClassifier, text: str, steps: list[int], language: str
) -> None:
    watcher = watch(classifier, language)
    for prefix in prefixes(text, steps):
        assert watcher.verdict(prefix) == classifier.verdict_now(prefix, language), prefix


@settings(max_examples=150, derandomize=True, deadline=None)
@given(replies(), replies(), st.integers(0, 100), st.sampled_from(LANGUAGES))
def test_a_watched_text_that_does_not_extend_the_last_one_is_read_anew(
    classifier: WordListClassifier, first: str, second: str, keep: int, language: str
) -> None:
    watcher = watch(classifier, language)
    for prefix in prefixes(first, [3]):
        watcher.verdict(prefix)
    for text in (first[:keep] + second, first[: keep // 2]):
        assert watcher.verdict(text) == classifier.verdict_now(text, language), text


def test_a_slur_spelled_out_across_many_checks_is_found(classifier: WordListClassifier) -> None:
    watcher = watch(classifier, "en")
    text = "Well, you are a f a g g o t, clearly."
    verdicts = [watcher.verdict(prefix) for prefix in prefixes(text, [1])]
    assert [v.flagged for v in verdicts] == [
        classifier.verdict_now(prefix, "en").flagged for prefix in prefixes(text, [1])
    ]
    assert verdicts[-1].categories == {"hate": 1.0}


@settings(max_examples=300, derandomize=True, deadline=None)
@given(replies(), sizes, st.sampled_from([1, 5, 40, 200]), st.data())
def test_checkpoints_found_incrementally_are_those_of_the_whole_text(
    text: str, steps: list[int], chunk_chars: int, data: st.DataObject
) -> None:
    finder = CheckpointFinder(chunk_chars)
    after = 0
    for prefix in prefixes(text, steps):
        found = finder.next(prefix, after)
        assert found == next_checkpoint(prefix, after, chunk_chars), (prefix, after)
        if found is not None and data.draw(st.booleans()):
            after = found
    # A rewritten text (after a cut or a resume) is scanned anew.
    rewritten = text[: len(text) // 2] + "Then. More words here"
    after = min(after, len(text) // 2)
    assert finder.next(rewritten, after) == next_checkpoint(rewritten, after, chunk_chars)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(alphabet="ab1 \t._*-,\u00e9\u00b2", max_size=40))
def test_the_spaced_letter_retreat_matches_searching_the_whole_text(text: str) -> None:
    for end in range(len(text) + 1):
        match = _SPACED_LETTERS.search(text[:end])
        assert _retreat_from_spaced_letters(text, end) == (match.start() if match else end)


def context(language: str) -> GuardContext:
    message = IncomingMessage(
        id="1",
        conversation=ConversationRef("test", None, "c"),
        sender=Sender(id="u", locale_hint=language),
        text="Tell me something.",
        sent_at=datetime.now(UTC),
    )
    return GuardContext(message, language, (), None, GenerationParams())  # type: ignore[arg-type]


async def stream(guard: SafetyGuard, text: str, steps: list[int], language: str) -> list[Verdict]:
    session = guard.begin(context(language))
    verdicts = []
    for prefix in prefixes(text, steps):
        verdicts.append(await session.check(prefix, final=False))
        if verdicts[-1].kind is not VerdictKind.PASS:
            break
    else:
        verdicts.append(await session.check(text, final=True))
    await session.aclose()
    return verdicts


@settings(max_examples=200, derandomize=True, deadline=None)
@given(replies(), sizes, st.sampled_from(LANGUAGES), st.sampled_from([20, 200]))
async def test_no_unchecked_character_is_shown_while_words_are_released(
    classifier: WordListClassifier, text: str, steps: list[int], language: str, chunk_chars: int
) -> None:
    guard = SafetyGuard(SafetyPolicy([WordListClassifier()]), chunk_chars=chunk_chars)
    verdicts = await stream(guard, text, steps, language)
    for prefix, verdict in zip(prefixes(text, steps), verdicts, strict=False):
        if verdict.kind is VerdictKind.PASS:
            assert verdict.cleared is not None
            shown = prefix[: verdict.cleared]
            # What is shown, judged whole as if nothing followed, holds no listed word.
            assert not classifier.verdict_now(shown, language).flagged, (prefix, shown)
    # The reply is blocked exactly when the whole text holds a listed word.
    blocked = verdicts[-1].kind is VerdictKind.REPLACE
    assert blocked == classifier.verdict_now(text, language).flagged


async def test_words_are_released_as_soon_as_they_are_finished() -> None:
    guard = SafetyGuard(SafetyPolicy([WordListClassifier()]))
    session = guard.begin(context("en"))
    text = "The weather is mild today"
    cleared = []
    for prefix in prefixes(text, [1]):
        verdict = await session.check(prefix, final=False)
        cleared.append(verdict.cleared)
    # Each word is shown once the space after it arrives; the last one is still being written.
    assert cleared[-1] == len("The weather is mild ")
    assert cleared[len("The weather") - 1] == len("The ")


async def test_a_word_that_may_begin_a_listed_phrase_waits_for_the_next_one() -> None:
    guard = SafetyGuard(SafetyPolicy([WordListClassifier()]))
    session = guard.begin(context("en"))
    held = await session.check("Please do not jack ", final=False)
    assert held.cleared == len("Please do not ")
    released = await session.check("Please do not jack the car up ", final=False)
    assert released.cleared == len("Please do not jack the car up ")
    blocked = await guard.begin(context("en")).check("Please do not jack off ", final=False)
    assert blocked.kind is VerdictKind.REPLACE


async def test_letters_that_may_spell_a_word_wait_until_the_run_ends() -> None:
    guard = SafetyGuard(SafetyPolicy([WordListClassifier()]))
    session = guard.begin(context("en"))
    held = await session.check("You are a s h i ", final=False)
    assert held.cleared is not None and held.cleared <= len("You are ")
    still = await session.check("You are a s h i t ", final=False)
    assert still.cleared is not None and still.cleared <= len("You are ")
    done = await session.check("You are a s h i t indeed ", final=False)
    assert done.kind is VerdictKind.REPLACE


async def test_chinese_is_released_character_by_character() -> None:
    guard = SafetyGuard(SafetyPolicy([WordListClassifier()]))
    verdict = await guard.begin(context("zh")).check("今天天气很好", final=False)
    assert verdict.cleared == len("今天天气很好")


async def test_an_insult_in_a_long_reply_is_replaced_once_its_word_is_finished() -> None:
    clean = "The weather is mild today and the market is open. " * 40
    text = clean + "You are a sh1t person. " + clean
    for steps in ([1], [4], [7, 2]):
        guard = SafetyGuard(SafetyPolicy([WordListClassifier()]))
        verdicts = await stream(guard, text, steps, "en")
        assert verdicts[-1].kind is VerdictKind.REPLACE
        # Replaced as soon as the word is finished: the words before it were shown, not it.
        assert verdicts[-1] is not verdicts[-2]
        assert max(v.cleared or 0 for v in verdicts[:-1]) <= len(clean) + len("You are a ")
        assert len(verdicts) <= len(prefixes(clean + "You are a sh1t ", steps)) + 1
