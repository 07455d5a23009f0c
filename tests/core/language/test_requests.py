"""Explicit language requests in the ten most-spoken BLOOM languages, and what is not one."""

from __future__ import annotations

import pytest

from core.language.requests import LanguageRequest, asks_for_mixed_languages, find_request


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Answer in English please", "en"),
        ("Can you reply in Spanish?", "es"),
        ("Peux-tu me répondre en anglais ?", "en"),
        ("réponds en français stp", "fr"),
        ("Responde en portugués, por favor", "pt"),
        ("Contesta en inglés", "en"),
        ("Responda em inglês, por favor", "en"),
        ("用中文回答", "zh"),
        ("请用英文回答这个问题", "en"),
        ("請用繁體中文回答", "zh-hant"),
        ("हिंदी में जवाब दो", "hi"),
        ("कृपया अंग्रेज़ी में उत्तर दीजिए", "en"),
        ("أجب بالإنجليزية من فضلك", "en"),
        ("اكتب بالعربية", "ar"),
        ("বাংলায় উত্তর দাও", "bn"),
        ("ইংরেজিতে উত্তর দিন", "en"),
        ("اردو میں جواب دیں", "ur"),
        ("Jawab dalam bahasa Inggris", "en"),
        ("Tolong jawab dalam bahasa Indonesia", "id"),
        ("Jibu kwa Kiswahili", "sw"),
        ("Write a short poem in Yoruba", "yo"),
        ("Explain it in isiZulu", "zu"),
    ],
)
def test_answer_requests(text: str, language: str) -> None:
    assert find_request(text) == LanguageRequest(language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("translate this into Swahili: good morning", "sw"),
        ("Traduis ce texte en espagnol : hello", "es"),
        ("Traduce esto al francés: good night", "fr"),
        ("Traduza para o inglês: bom dia", "en"),
        ("请把这句话翻译成英文：你好", "en"),
        ("इसे अंग्रेज़ी में अनुवाद करो", "en"),
        ("ترجم هذه الجملة إلى الفرنسية", "fr"),
        ("Terjemahkan ke bahasa Inggris: selamat pagi", "en"),
    ],
)
def test_translation_requests(text: str, language: str) -> None:
    assert find_request(text) == LanguageRequest(language, translation=True)


@pytest.mark.parametrize(
    "text",
    [
        "I live in France",
        "What is the French word for cat?",
        "Can you speak Chinese?",
        "J'ai appris l'anglais à l'école.",
        "ok",
        "👍",
        "",
    ],
)
def test_mentions_of_languages_are_not_requests(text: str) -> None:
    assert find_request(text) is None


def test_several_languages_at_once_is_a_mixed_request() -> None:
    assert asks_for_mixed_languages("Explain it in English and French")
    assert asks_for_mixed_languages("Give me a bilingual summary")
    assert not asks_for_mixed_languages("Explain it in English")
