"""The detectors on sentences written for these tests and on the cases the reply pipeline needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.language.default_detector import DefaultDetector
from core.language.languages import BY_CODE, UNDETERMINED, reply_language
from core.language.library_detectors import (
    Cld2Detector,
    LangdetectDetector,
    LinguaDetector,
    Py3langidDetector,
    cld2_guess,
)

SENTENCES = Path(__file__).resolve().parents[2] / "data" / "language" / "sentences.tsv"


def written_sentences() -> list[tuple[str, str]]:
    """(code, sentence) pairs written for the project's tests (tests/data/language)."""
    pairs = []
    for line in SENTENCES.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            code, sentence = line.split("\t", 1)
            pairs.append((code, sentence.strip()))
    return pairs


def test_the_default_knows_every_bloom_language_but_tumbuka(detector: DefaultDetector) -> None:
    # Tumbuka has no openly licensed text to train on (core/data/language/SOURCES.md).
    assert set(BY_CODE) - detector.languages == {"tum"}


def test_the_default_names_the_written_sentences(detector: DefaultDetector) -> None:
    pairs = [(code, text) for code, text in written_sentences() if code != "tum"]
    answers = [(reply_language(code), detector.detect(text).language) for code, text in pairs]
    right = sum(expected == answer for expected, answer in answers)
    wrong = [(e, a) for e, a in answers if a not in (e, UNDETERMINED)]
    assert right >= 0.93 * len(pairs), (right, len(pairs))
    assert len(wrong) <= 0.03 * len(pairs), wrong


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The atom holds protons and neutrons.", "en"),
        ("The cell has a nucleus and a membrane.", "en"),
        ("كان الطقس جميلا في المدينة يوم أمس.", "ar"),
        ("میں کل آپ سے ملوں گا اور ہم بازار جائیں گے۔", "ur"),
        ("আমাৰ ঘৰ গুৱাহাটীত, আৰু মই প্ৰতিদিনে স্কুললৈ যাওঁ।", "as"),
        ("আমার বাড়ি কলকাতায়, আর আমি প্রতিদিন স্কুলে যাই।", "bn"),
        ("我们明天在图书馆见面吧。", "zh"),
        ("我們明天在圖書館見面吧。", "zh-hant"),
        ('તેણે કહ્યું, "હવે અમારી પાસે 4 ગાયો છે."', "gu"),
        ('ఆయన "నేను రేపు 10 గంటలకు వస్తాను" అని చెప్పారు.', "te"),
        ("Abana bose bagomba kwiga amashure abanza mu gihugu cacu.", "rn"),
        ("Abana bose bagomba kwiga amashuri abanza mu gihugu cyacu.", "rw"),
        ("Ich möchte heute Abend mit meinen Freunden ins Kino gehen.", UNDETERMINED),
        ("Привет, как дела?", UNDETERMINED),
        ("東京に行きたいです。", UNDETERMINED),
        ("ok", UNDETERMINED),
        ("👍", UNDETERMINED),
        ("", UNDETERMINED),
    ],
)
def test_the_default_on_cases_the_pipeline_needs(
    detector: DefaultDetector, text: str, expected: str
) -> None:
    assert detector.detect(text).language == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ngiyabonga kakhulu ngosizo lwakho izolo ekuseni, ngizokubona kusasa.", "zu"),
        ("Enkosi kakhulu ngoncedo lwakho izolo kusasa, ndiza kukubona ngomso.", "xh"),
        ("Ejo nzajya ku isoko kugura imboga n'imbuto hamwe n'abana banjye.", "rw"),
        ("Ejo nzoja ku isoko kugura imboga n'imbuto hamwe n'abana banje.", "rn"),
        ("Ke rata go bala dibuka tse dintsi mo bosigong.", "tn"),
        ("Ke rata ho bala dibuka tse ngata bosiung.", "st"),
        ("Ke rata go bala dipuku tše dintši bošego.", "nso"),
    ],
)
def test_the_default_tells_close_neighbours_apart(
    detector: DefaultDetector, text: str, expected: str
) -> None:
    # Written for this test: the same sentence in two neighbouring languages' spelling.
    assert detector.detect(text).language == expected


def test_twi_is_answered_as_akan_its_reply_language(detector: DefaultDetector) -> None:
    assert reply_language("tw") == "ak"
    assert "tw" in detector.languages
    assert "tw" not in detector.detect("Me din de Kofi, na me fi Kumasi.").scores


def test_confidence_is_one_probability_over_the_candidates(detector: DefaultDetector) -> None:
    found = detector.detect("Le chat dort sur le canapé pendant que la pluie tombe dehors.")
    assert found.language == "fr"
    assert found.confidence >= detector.min_confidence
    assert sum(found.scores.values()) <= 1.0 + 1e-9
    assert list(found.scores) == sorted(found.scores, key=found.scores.__getitem__, reverse=True)


def test_detection_reports_the_script(detector: DefaultDetector) -> None:
    assert detector.detect("Привет, как дела у тебя сегодня?").script == "Cyrillic"
    assert detector.detect("Bonjour tout le monde, comment allez-vous ?").script == "Latin"


def test_cld2_names_bloom_languages_and_puts_the_rest_aside() -> None:
    cld2 = Cld2Detector()
    assert cld2.detect("Je voudrais une tasse de café, s'il vous plaît.").language == "fr"
    assert cld2.detect("Ich möchte heute Abend ins Kino gehen.").language == UNDETERMINED
    assert cld2_guess("abc \ud800 def") == cld2_guess("")


def test_langdetect_is_seeded_and_repeatable() -> None:
    langdetect = LangdetectDetector(min_confidence=0.0)
    short = "bon día"
    first = langdetect.detect(short)
    assert all(langdetect.detect(short) == first for _ in range(5))
    assert langdetect.detect("Je voudrais une tasse de café, s'il vous plaît.").language == "fr"


def test_library_detectors_answer_only_bloom_languages() -> None:
    german = "Ich möchte heute Abend mit meinen Freunden ins Kino gehen."
    for library in (
        Cld2Detector(min_confidence=0.0),
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


def test_text_of_one_or_two_different_letters_is_not_language(detector: DefaultDetector) -> None:
    assert detector.detect("w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11").language == UNDETERMINED
    assert detector.detect("aaa bbb aaa bbb aaa").language == UNDETERMINED
