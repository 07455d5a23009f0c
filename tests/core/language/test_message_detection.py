"""The language of a user's message: prose first, quotations when prose is too thin, scripts."""

from __future__ import annotations

import pytest

from core.language.default_detector import DefaultDetector
from core.language.languages import UNDETERMINED
from core.language.masking import prose, prose_with_quotes
from core.language.policy import ReplyLanguagePolicy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The atom holds protons and neutrons.", "en"),
        ("كان الطقس جميلا في المدينة يوم أمس.", "ar"),
        # Mostly a quotation: the prose ("He said") is too thin, the quotation decides.
        ('He said "I will be there at noon, do not wait for me".', "en"),
        ("Elle m'a dit « je serai là à midi, ne m'attends pas ».", "fr"),
        # Prose in one language quoting another: the prose decides.
        ('Mi amigo siempre dice "keep calm and carry on" cuando estamos nerviosos.', "es"),
        # Scripts only one BLOOM language uses answer however little prose is left.
        ('તેણે કહ્યું, "હવે અમારી પાસે 4 ગાયો છે."', "gu"),
        ('ఆయన "నేను రేపు వస్తాను" అని చెప్పారు.', "te"),
        ("ਧੰਨਵਾਦ 123", "pa"),
        ("Abana bose bagomba kwiga amashure abanza mu gihugu cacu.", "rn"),
        ("Abana bose bagomba kwiga amashuri abanza mu gihugu cyacu.", "rw"),
        ("ok 👍", UNDETERMINED),
        ('"ok"', UNDETERMINED),
        ("```python\nprint('hello world, this is code')\n```", UNDETERMINED),
    ],
)
async def test_message_language(detector: DefaultDetector, text: str, expected: str) -> None:
    assert await ReplyLanguagePolicy(detector).detect_message(text) == expected


def test_prose_with_quotes_keeps_quotations_and_still_blanks_code() -> None:
    text = 'He said "see you at noon" and ran `make test` at https://example.com'
    assert "see you at noon" not in prose(text)
    kept = prose_with_quotes(text)
    assert "see you at noon" in kept
    assert "make test" not in kept and "example" not in kept


async def test_two_words_of_two_languages_at_once_do_not_switch(detector: DefaultDetector) -> None:
    # "second question" is English and French alike: not enough to change the language.
    assert await ReplyLanguagePolicy(detector).detect_message("second question") == UNDETERMINED
