"""The word-list layer: obfuscated slurs and obscenities are caught, everyday words are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigurationError
from core.safety import categories as cat
from core.safety.base import Role
from core.safety.normalize import normalize, word_tokens
from core.safety.wordlists import (
    WordListClassifier,
    bundled_word_lists,
    load_word_lists,
    parse_word_list,
)

LISTS_FOLDER = Path(__file__).parents[3] / "core" / "data" / "safety" / "wordlists"


@pytest.fixture(scope="module")
def classifier() -> WordListClassifier:
    return WordListClassifier()


def categories(classifier: WordListClassifier, text: str, language: str = "en") -> set[str]:
    return {match.category for match in classifier.find(text, language)}


@pytest.mark.parametrize(
    "text",
    [
        "you are a faggot",
        "you are a F A G G O T",  # spacing
        "you are a f.a.g.g.o.t",  # punctuation between letters
        "you are a f4gg0t",  # leetspeak
        "you are a fag\u200bgot",  # zero-width space
        "you are a \uff46\uff41\uff47\uff47\uff4f\uff54",  # full-width forms
        "you are a FAGGOTTTT",  # stretched letters
        "you are a f\u0430ggot",  # Cyrillic a
        "what a n1gg3r",
        "what a k-i-k-e",
    ],
)
def test_obfuscated_slurs_are_caught(classifier: WordListClassifier, text: str) -> None:
    assert cat.HATE in categories(classifier, text)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("what the fuck", "en"),
        ("sh1t happens", "en"),
        ("s h i t happens", "en"),
        ("va te faire, espèce de connard", "fr"),
        ("tu es un ENCULÉ", "fr"),
        ("eres un gilipollas", "es"),
        ("vai tomar no cu", "pt"),
        ("يا شرموطة", "ar"),
        ("操你妈的", "zh"),
        ("tu madarchod hai", "hi"),
        ("तू मादरचोद है", "hi"),
        ("dasar kontol", "id"),
        ("đụ má mày", "vi"),
        ("তুই একটা বোকাচোদা", "bn"),
        ("ets un fill de puta", "ca"),
    ],
)
def test_obscenities_in_each_language(
    classifier: WordListClassifier, text: str, language: str
) -> None:
    assert cat.OBSCENITY in categories(classifier, text, language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Kill the process with SIGKILL, then restart the daemon.", "en"),
        ("Scunthorpe and Penistone are towns in England.", "en"),
        ("Our assistant passed the class assessment.", "en"),
        ("Niger is a country in West Africa.", "en"),
        ("A cocktail with a dash of bitters.", "en"),
        ("Il a mangé un cône de glace; la couleur negre en catalan.", "fr"),
        ("Quiero un cono de helado.", "es"),
        ("Vou comer arroz com o meu burro.", "pt"),
        ("妈妈的书在桌子上。", "zh"),
        ("Tôi uống một lon bia với các bạn.", "vi"),
        ("Analysis of the therapist's notes.", "en"),
        ("I am very very happy.", "en"),
    ],
)
def test_everyday_text_is_not_flagged(
    classifier: WordListClassifier, text: str, language: str
) -> None:
    assert classifier.find(text, language) == []


def test_english_list_applies_to_every_language(classifier: WordListClassifier) -> None:
    assert categories(classifier, "c'est de la bullshit", "fr") == {cat.OBSCENITY}


def test_other_language_lists_apply_only_to_their_language(classifier: WordListClassifier) -> None:
    assert classifier.find("gilipollas", "fr") == []
    assert categories(classifier, "gilipollas", "und") == {cat.OBSCENITY}


async def test_classify_reports_categories_with_full_score(classifier: WordListClassifier) -> None:
    verdict = await classifier.classify("what a n1gg3r, fuck", language="en", role=Role.ASSISTANT)
    assert verdict.categories == {cat.HATE: 1.0, cat.OBSCENITY: 1.0}
    assert verdict.classifier == "wordlist"


def test_normalisation() -> None:
    assert normalize("ＣＡＦÉ\u200b") == "cafe"
    assert normalize("lồn", fold_accents=False) == "lồn"
    assert word_tokens("s1ut") == [("siut", "slut")]
    assert word_tokens("Option a b c") == [("option",), ("abc",)]


def test_every_bundled_list_records_its_source_and_licence() -> None:
    files = sorted(LISTS_FOLDER.glob("*.txt"))
    assert len(files) == len(bundled_word_lists()) >= 10
    for path in files:
        header = path.read_text(encoding="utf-8")
        assert "# source:" in header, path.name
        assert "licence" in header, path.name


def test_list_format_errors_name_the_problem() -> None:
    with pytest.raises(ConfigurationError, match="entry before a"):
        parse_word_list("xx", "word\n")
    with pytest.raises(ConfigurationError, match="unknown category"):
        parse_word_list("xx", "[rudeness]\nword\n")
    with pytest.raises(ConfigurationError, match="unknown section"):
        parse_word_list("xx", "[hate: everywhere]\nword\n")
    with pytest.raises(ConfigurationError, match="unknown section"):
        parse_word_list("xx", "[mention: this language only]\nword\n")


def test_this_language_only_entries_are_not_read_in_other_languages() -> None:
    lists = [
        parse_word_list("en", "[hate]\nslurword\n[hate: this language only]\nretard\n"),
        parse_word_list("fr", "[obscenity]\nputain\n"),
    ]
    classifier = WordListClassifier(lists)
    assert categories(classifier, "shut up, retard", "en") == {cat.HATE}
    assert categories(classifier, "je suis en retard", "fr") == set()
    assert categories(classifier, "je suis en retard", "und") == set()
    # The list's other entries are still read in every language.
    assert categories(classifier, "quel slurword", "fr") == {cat.HATE}


def test_bundled_english_list_keeps_french_lateness_apart(classifier: WordListClassifier) -> None:
    assert categories(classifier, "Désolé, je suis en retard.", "fr") == set()
    assert categories(classifier, "you absolute retard", "en") == {cat.HATE}


def test_operator_lists_extend_the_bundled_ones(tmp_path: Path) -> None:
    (tmp_path / "en.txt").write_text("[obscenity]\nfrobnicate\n", encoding="utf-8")
    (tmp_path / "tlh.txt").write_text("[hate]\nqovpatlh\n", encoding="utf-8")
    classifier = WordListClassifier(load_word_lists(tmp_path))
    assert categories(classifier, "do not frobnicate") == {cat.OBSCENITY}
    assert categories(classifier, "fuck") == {cat.OBSCENITY}  # bundled entries are kept
    assert categories(classifier, "qovpatlh!", "tlh") == {cat.HATE}
    with pytest.raises(ConfigurationError):
        load_word_lists(tmp_path / "missing")


def test_operator_lists_may_leave_bundled_entries_out(tmp_path: Path) -> None:
    (tmp_path / "en.txt").write_text("[remove]\nRetarded\nmongoloid\n", encoding="utf-8")
    classifier = WordListClassifier(load_word_lists(tmp_path))
    assert categories(classifier, "that was a retarded idea") == set()
    assert categories(classifier, "mongoloid") == set()
    assert categories(classifier, "you retard") == {cat.HATE}  # only the entries named go
    assert categories(classifier, "fuck") == {cat.OBSCENITY}
