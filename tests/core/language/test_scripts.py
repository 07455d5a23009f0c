"""Counting a text's letters by script."""

from __future__ import annotations

import pytest

from core.language.scripts import letter_scripts, script_counts


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1234 !?",
        "Bonjour à tous",
        "नमस्ते दुनिया, how are you",
        "ab αβ",  # a tie: the script met first wins
        "αβ ab",
        "東京タワー",
        "Ọjọ́ dára ni",
        "مرحبا 😀 بكم",  # beyond the Basic Multilingual Plane
        "𠀀𠀁 ab",
        "\ud800 lone surrogate",
    ],
)
def test_letter_scripts_agree_with_script_counts(text: str) -> None:
    counted = script_counts(text)
    expected = (
        (counted.most_common(1)[0][0], counted.most_common(1)[0][1], sum(counted.values()))
        if counted
        else (None, 0, 0)
    )
    assert letter_scripts(text) == expected


def test_letter_scripts_name_the_dominant_script() -> None:
    # Vowel signs count with the letters of their script.
    assert letter_scripts("ગુજરાતી text") == ("Gujarati", 7, 11)
