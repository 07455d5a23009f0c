"""The language guard session on replies fed token by token, as the dialog manager feeds them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from core.generation.base import GenerationParams
from core.generation.tgi import TgiGenerator
from core.guards.base import GuardContext, GuardSession, Verdict, VerdictKind
from core.language.default_detector import DefaultDetector
from core.language.drift_repair import REASON_DRIFT, REASON_TRANSLATED
from core.language.guard import LanguageGuard
from core.language.guard_thresholds import LATER_FIT_LETTERS
from core.language.scripts import script_of
from core.language.target_script import MAYBE_NOT_LATIN
from core.messages import ConversationRef, IncomingMessage, Sender
from tests.fakes.tgi import FakeTGI, Script

FRENCH = "Paris est la capitale de la France. Elle compte plus de deux millions d'habitants."
ENGLISH = " The city is also famous for its museums and its food."


@pytest.fixture
async def tgi() -> AsyncIterator[FakeTGI]:
    async with FakeTGI() as fake:
        yield fake


@pytest.fixture
async def generator(tgi: FakeTGI) -> AsyncIterator[TgiGenerator]:
    async with TgiGenerator(tgi.url) as client:
        yield client


def context(
    generator: TgiGenerator, language: str, text: str = "Parle-moi de Paris."
) -> GuardContext:
    message = IncomingMessage(
        id="m1",
        conversation=ConversationRef("test", None, "c1"),
        sender=Sender("u1"),
        text=text,
        sent_at=datetime.now(UTC),
    )
    return GuardContext(message, language, (), generator, GenerationParams())


async def feed(session: GuardSession, text: str, step: int = 3) -> tuple[Verdict, int]:
    """Check `text` growing by `step` characters; the first intervention or the final verdict,
    and the most characters cleared for display along the way."""
    shown = 0
    for end in range(step, len(text) + step, step):
        final = end >= len(text)
        verdict = await session.check(text[:end], final=final)
        if verdict.kind is not VerdictKind.PASS:
            return verdict, shown
        shown = max(shown, min(end, len(text)) if verdict.cleared is None else verdict.cleared)
    return verdict, shown


async def test_a_switch_resumes_at_the_last_good_sentence_and_shows_nothing_of_it(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    session = LanguageGuard(detector).begin(context(generator, "fr"))
    verdict, shown = await feed(session, FRENCH + ENGLISH + " And more.")
    assert verdict.kind is VerdictKind.RESUME
    assert verdict.reason == REASON_DRIFT
    assert verdict.at == len(FRENCH) + 1
    assert "French" in verdict.instruction
    assert shown <= len(FRENCH) + 1


async def test_single_language_replies_with_code_and_links_pass(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    reply = (
        "Pour installer le paquet, lancez `pip install requests` puis ouvrez "
        "https://requests.readthedocs.io/en/latest/ dans votre navigateur.\n\n"
        "```python\nimport requests\nresponse = requests.get('https://example.org')\n"
        "print(response.status_code, 'All good, the request worked fine')\n```\n\n"
        'Comme dit Kenneth Reitz, "HTTP for Humans" résume bien la bibliothèque.'
    )
    verdict, _ = await feed(LanguageGuard(detector).begin(context(generator, "fr")), reply)
    assert verdict == Verdict.allow()


async def test_code_only_replies_are_never_cut_and_stream_as_they_come(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    reply = "```python\ndef greet(name):\n    return f'Hello {name}, welcome back!'\n```"
    session = LanguageGuard(detector).begin(context(generator, "fr"))
    half = await session.check(reply[:40], final=False)
    assert half.kind is VerdictKind.PASS and half.cleared == 40
    verdict, _ = await feed(LanguageGuard(detector).begin(context(generator, "fr")), reply)
    assert verdict == Verdict.allow()


async def test_a_sentence_is_held_until_its_first_words_fit(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    session = LanguageGuard(detector).begin(context(generator, "fr"))
    text = "Bonjour à tous. Oui"
    verdict = await session.check(text, final=False)
    assert verdict.cleared is not None
    assert text[: verdict.cleared].strip() == "Bonjour à tous."


async def test_first_words_that_fit_the_target_are_shown_as_they_come(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    session = LanguageGuard(detector).begin(context(generator, "fr"))
    text = "Bonjour à tous. Aujourd'hui nous allons visiter le"
    shown = [await session.check(text[:end], final=False) for end in range(1, len(text) + 1)]
    assert shown[-1].cleared == len(text)  # the sentence flows while it is checked
    assert all(v.cleared is not None and v.cleared <= 1 for v in shown[:3])


async def test_the_first_sentence_flows_on_fewer_letters_than_later_ones(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    # While nothing is shown, a few words decide; once the user has text to read, a later
    # sentence waits for an opening the detector is sure of (cheaper, and fewer retries).
    first = LanguageGuard(detector).begin(context(generator, "fr"))
    opening = "Aujourd'hui nous allons"
    verdicts = [await first.check(opening[:end], final=False) for end in range(1, 24)]
    assert verdicts[-1].cleared == len(opening)
    later = LanguageGuard(detector).begin(context(generator, "fr"))
    text = "Bonjour à tous. " + opening
    verdicts = [await later.check(text[:end], final=False) for end in range(1, len(text) + 1)]
    assert all(v.cleared is not None and v.cleared <= len("Bonjour à tous.") for v in verdicts)
    assert sum(map(str.isalpha, opening)) < LATER_FIT_LETTERS


async def test_first_words_in_another_language_are_not_shown(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    session = LanguageGuard(detector).begin(context(generator, "fr"))
    text = "The weather today is lovely and the"
    for end in range(1, len(text) + 1):
        verdict = await session.check(text[:end], final=False)
        assert verdict.cleared == 0, text[:end]


async def test_a_chinese_reply_is_shown_after_a_few_characters(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    session = LanguageGuard(detector).begin(context(generator, "zh"))
    verdict = await session.check("今天天气", final=False)
    assert verdict.cleared == len("今天天气")
    english = LanguageGuard(detector).begin(context(generator, "zh"))
    assert (await english.check("Today the", final=False)).cleared == 0


async def test_translation_requests_are_left_alone(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    request = "Traduis en anglais : Paris est la capitale de la France."
    session = LanguageGuard(detector).begin(context(generator, "en", request))
    verdict, _ = await feed(session, "Here is the translation: " + FRENCH + ENGLISH)
    assert verdict == Verdict.allow()


async def test_bilingual_answers_the_user_asked_for_are_left_alone(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    session = LanguageGuard(detector).begin(
        context(generator, "fr", "Explique-le en français et en anglais.")
    )
    verdict, _ = await feed(session, FRENCH + ENGLISH)
    assert verdict == Verdict.allow()


async def test_a_second_drift_is_translated_by_the_model(
    detector: DefaultDetector, generator: TgiGenerator, tgi: FakeTGI
) -> None:
    tgi.enqueue(Script(reply="La ville est aussi célèbre pour ses musées et sa cuisine."))
    session = LanguageGuard(detector).begin(context(generator, "fr"))
    first, _ = await feed(session, FRENCH + ENGLISH)
    assert first.kind is VerdictKind.RESUME
    # The dialog manager restarts from the kept text; the model drifts again.
    resumed = FRENCH + ENGLISH
    held = await session.check(resumed, final=False)
    assert held.cleared == len(FRENCH) + 1
    verdict = await session.check(resumed, final=True)
    assert verdict.kind is VerdictKind.REPLACE
    assert verdict.reason == REASON_TRANSLATED
    assert (
        verdict.replacement == FRENCH + " La ville est aussi célèbre pour ses musées et sa cuisine."
    )
    prompt = tgi.generation_requests()[0].body["inputs"]
    assert "Translate the following text into French" in prompt
    assert "famous for its museums" in prompt


async def test_a_translation_still_in_the_wrong_language_ends_the_reply_cleanly(
    detector: DefaultDetector, generator: TgiGenerator, tgi: FakeTGI
) -> None:
    tgi.enqueue(Script(reply="The city is famous for its museums and its food, really."))
    session = LanguageGuard(detector).begin(context(generator, "fr"))
    await feed(session, FRENCH + ENGLISH)
    verdict = await session.check(FRENCH + ENGLISH, final=True)
    assert verdict.kind is VerdictKind.CUT
    assert verdict.at == len(FRENCH) + 1


async def test_without_translation_a_second_drift_cuts(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    session = LanguageGuard(detector, translate=False).begin(context(generator, "fr"))
    await feed(session, FRENCH + ENGLISH)
    verdict = await session.check(FRENCH + ENGLISH + " It", final=False)
    assert verdict == Verdict.cut(len(FRENCH) + 1, REASON_DRIFT)


async def test_a_target_no_detector_knows_still_stops_a_switch_to_english(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    wolof = "Dafa leeral jafe-jafe bi ndànk ndànk, ba mujj ñépp ñu ko dégg."
    english = " The weather will be sunny tomorrow in most of the country, with light winds."
    session = LanguageGuard(detector).begin(context(generator, "wo", "Nanga def?"))
    verdict, _ = await feed(session, wolof + english)
    assert verdict.kind is VerdictKind.RESUME
    assert verdict.at == len(wolof) + 1


async def test_a_reply_without_target_keeps_the_language_it_started_in(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    session = LanguageGuard(detector).begin(context(generator, "und", "👍"))
    verdict, _ = await feed(session, FRENCH + ENGLISH + " Thanks.")
    assert verdict.kind is VerdictKind.RESUME
    assert verdict.at == len(FRENCH) + 1


async def test_a_switch_of_script_is_caught(
    detector: DefaultDetector, generator: TgiGenerator
) -> None:
    session = LanguageGuard(detector).begin(context(generator, "hi", "दिल्ली के बारे में बताइए"))
    hindi = "दिल्ली भारत की राजधानी है। यहाँ बहुत से ऐतिहासिक स्मारक हैं।"
    verdict, _ = await feed(session, hindi + " 德里是印度的首都，有很多历史古迹。")
    assert verdict.kind is VerdictKind.RESUME
    assert verdict.at == len(hindi) + 1


def test_only_the_characters_a_latin_target_looks_up_may_be_of_another_script() -> None:
    looked_up = re.compile(f"[{MAYBE_NOT_LATIN}]")
    skipped = [chr(point) for point in range(0x10000) if not looked_up.match(chr(point))]
    assert len(skipped) > 500
    assert {script_of(char) for char in skipped} <= {None, "Latin"}
