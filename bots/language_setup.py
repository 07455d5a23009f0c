"""Builds the language detector, reply-language policy and language guard from settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import cache

from bots.settings import Settings
from core.language.default_detector import DefaultDetector
from core.language.detector import LanguageDetector
from core.language.guard import LanguageGuard
from core.language.library_detectors import (
    Cld2Detector,
    LangdetectDetector,
    LinguaDetector,
    Py3langidDetector,
)
from core.language.policy import ReplyLanguagePolicy

# Every detector the settings can name, and how to make it.
DETECTORS: dict[str, Callable[[], LanguageDetector]] = {
    "default": DefaultDetector,
    "cld2": Cld2Detector,
    "py3langid": Py3langidDetector,
    "lingua": LinguaDetector,
    "langdetect": LangdetectDetector,
}


@cache
def shared_detector(name: str) -> LanguageDetector:
    """One detector per process and name: its models are large and load once."""
    return DETECTORS[name]()


def build_language_policy(settings: Settings) -> ReplyLanguagePolicy:
    """The reply-language policy over the configured detector."""
    return ReplyLanguagePolicy(shared_detector(settings.language_detector))


def build_language_guard(settings: Settings) -> LanguageGuard | None:
    """The streaming language guard, unless switched off."""
    if not settings.language_guard:
        return None
    return LanguageGuard(
        shared_detector(settings.language_detector),
        translate=settings.language_translate_drift,
    )


async def load_language_models(settings: Settings) -> None:
    """Load the detector's models in a worker thread, before the first message needs them."""
    detector = shared_detector(settings.language_detector)
    load = getattr(detector, "load", None)
    if callable(load):
        await asyncio.to_thread(load)
