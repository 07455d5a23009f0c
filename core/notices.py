"""The bot's own messages, localized: one JSON catalog per BLOOM language, English as fallback."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

FALLBACK_LANGUAGE = "en"


@cache
def _catalog(language: str) -> dict[str, str]:
    folder = resources.files("core").joinpath("data", "notices")
    entry = folder.joinpath(f"{language}.json")
    if not entry.is_file():
        return {}
    loaded: dict[str, str] = json.loads(entry.read_text(encoding="utf-8"))
    return loaded


def available_languages() -> list[str]:
    """Language codes that have a notice catalog."""
    folder = resources.files("core").joinpath("data", "notices")
    return sorted(
        e.name.removesuffix(".json") for e in folder.iterdir() if e.name.endswith(".json")
    )


def _base_language(language: str) -> str:
    # "zh-hant" falls back to "zh", "pt-BR" to "pt".
    return language.replace("_", "-").split("-")[0].lower()


def notice(key: str, language: str, /, **values: Any) -> str:
    """The notice `key` in `language` (or its base language, or English), formatted with `values`."""
    for candidate in (language, _base_language(language), FALLBACK_LANGUAGE):
        template = _catalog(candidate).get(key)
        if template is not None:
            return template.format(**values)
    raise KeyError(f"unknown notice {key!r}")
