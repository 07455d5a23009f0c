"""The detectors on the evaluation set and on the cases the reply pipeline depends on."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.language_eval import load_sentences
from core.language.default_detector import DefaultDetector
from core.language.languages import UNDETERMINED, detectable_by_any, is_close
from core.language.library_detectors import (
    LangdetectDetector,
    LinguaDetector,
    Py3langidDetector,
)


def test_default_names_the_sentences_of_every_language_it_knows(
    detector: DefaultDetector,
) -> None:
    wrong: Counter[str] = Counter()
    exact = 0
    for code, sentence in load_sentences():
        if code not in detectable_by_any():
            continue
        answer = detector.detect(sentence).language
        exact += answer == code
        if not is_close(answer, code):
            wrong[code] += 1
    # Never more than one sentence in ten outside the language's close neighbours (Tswana for
    # Northern Sotho, Zulu for Xhosa), and the exact language nearly always.
    assert all(count <= 1 for count in wrong.values()), wrong
    assert exact >= 0.97 * 380, exact


def test_default_rather_says_und_than_a_neighbour_for_unknown_languages(
    detector: DefaultDetector,
) -> None:
    answers = Counter(
        detector.detect(sentence).language
        for code, sentence in load_sentences()
        if code in {"ak", "bm", "fon", "tw", "wo", "tum", "ny"}
    )
    assert answers[UNDETERMINED] >= 0.5 * sum(answers.values()), answers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我们明天在图书馆见面吧。", "zh"),
        ("我們明天在圖書館見面吧。", "zh-hant"),
        ("আমাৰ ঘৰ গুৱাহাটীত।", "as"),
        ("আমার বাড়ি কলকাতায়।", "bn"),
        ("میں کل آپ سے ملوں گا۔", "ur"),
        ("سأراك غدا في المكتبة إن شاء الله.", "ar"),
        ("ನಾನು ನಾಳೆ ಬರುತ್ತೇನೆ.", "kn"),
        ("Привет, как дела?", UNDETERMINED),
        ("東京に行きたいです。", UNDETERMINED),
        ("ok", UNDETERMINED),
        ("👍", UNDETERMINED),
        ("", UNDETERMINED),
    ],
)
def test_scripts_decide_where_they_can(detector: DefaultDetector, text: str, expected: str) -> None:
    assert detector.detect(text).language == expected


def test_detection_reports_the_script(detector: DefaultDetector) -> None:
    assert detector.detect("Привет, как дела у тебя сегодня?").script == "Cyrillic"
    assert detector.detect("Bonjour tout le monde, comment allez-vous ?").script == "Latin"


def test_langdetect_is_seeded_and_repeatable() -> None:
    langdetect = LangdetectDetector(min_confidence=0.0)
    short = "bon día"
    first = langdetect.detect(short)
    assert all(langdetect.detect(short) == first for _ in range(5))
    assert langdetect.detect("Je voudrais une tasse de café, s'il vous plaît.").language == "fr"


def test_library_detectors_answer_only_bloom_languages() -> None:
    german = "Ich möchte heute Abend mit meinen Freunden ins Kino gehen."
    for library in (
        LangdetectDetector(min_confidence=0.0),
        Py3langidDetector(min_confidence=0.0),
        LinguaDetector(min_confidence=0.0, low_accuracy=True),
    ):
        found = library.detect(german)
        assert found.language in library.languages | {UNDETERMINED}
        assert set(found.scores) <= library.languages


def test_py3langid_absorbers_turn_outside_languages_into_und() -> None:
    hausa = "Ina so in je kasuwa gobe da safe domin in sayi abinci da kayan miya."
    assert Py3langidDetector(absorbers=("ha",)).detect(hausa).language == UNDETERMINED


async def test_long_texts_are_detected_off_the_event_loop(detector: DefaultDetector) -> None:
    long_text = "Le chat dort sur le canapé pendant que la pluie tombe dehors. " * 20
    found = await detector.adetect(long_text)
    assert found.language == "fr"
