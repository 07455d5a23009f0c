"""The BLOOM language table: 46 languages, codes, aliases and detector coverage."""

from __future__ import annotations

from core.language.languages import (
    BLOOM_LANGUAGES,
    BY_CODE,
    canonical_code,
    detectable_by_any,
    is_close,
)


def test_the_table_has_blooms_46_natural_languages_once_each() -> None:
    codes = [language.code for language in BLOOM_LANGUAGES]
    assert len(codes) == 46
    assert len(set(codes)) == 46
    assert {"ak", "tw", "fon", "nso", "zh", "zh-hant", "tum", "wo", "yo"} <= set(codes)


def test_languages_no_library_knows_are_left_to_the_ngram_model() -> None:
    unknown = set(BY_CODE) - detectable_by_any()
    assert unknown == {"bm", "fon", "tum", "tw"}


def test_tags_from_platforms_and_users_map_to_bloom_codes() -> None:
    assert canonical_code("pt-BR") == "pt"
    assert canonical_code("zh-TW") == "zh-hant"
    assert canonical_code("zh-Hant-HK") == "zh-hant"
    assert canonical_code("zh_CN") == "zh"
    assert canonical_code("en_US") == "en"
    assert canonical_code("swh") == "sw"
    assert canonical_code("de") is None
    assert canonical_code("") is None
    assert canonical_code(None) is None


def test_close_neighbours_are_grouped_but_not_everything() -> None:
    assert is_close("zu", "xh")
    assert is_close("st", "nso")
    assert is_close("zh", "zh-hant")
    assert not is_close("es", "ca")
    assert not is_close("fr", "en")
