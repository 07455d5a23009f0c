"""Localized notice catalogs: same keys and placeholders as English, chosen by reply language."""

from __future__ import annotations

import json
import string
from importlib import resources

import pytest

from core.language.languages import BY_CODE
from core.notices import available_languages, notice


def _catalog(code: str) -> dict[str, str]:
    entry = resources.files("core").joinpath("data", "notices", f"{code}.json")
    loaded: dict[str, str] = json.loads(entry.read_text(encoding="utf-8"))
    return loaded


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", [c for c in available_languages() if c != "en"])
def test_catalogs_translate_english_keys_with_the_same_placeholders(code: str) -> None:
    assert code in BY_CODE
    english = _catalog("en")
    translated = _catalog(code)
    assert set(translated) <= set(english)
    for key, template in translated.items():
        assert _fields(template) == _fields(english[key]), key


def test_the_big_languages_have_catalogs() -> None:
    assert {"fr", "es", "pt", "ar", "zh", "zh-hant", "hi", "id", "sw", "vi"} <= set(
        available_languages()
    )


def test_notices_come_in_the_reply_language_with_english_fallback() -> None:
    assert notice("lang_set", "fr", language="français") == "Désormais, je répondrai en français."
    assert notice("refusal", "zh-hant") == "這個我幫不了你。"
    assert notice("refusal", "yo") == notice("refusal", "en")
