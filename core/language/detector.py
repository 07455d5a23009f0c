"""The `LanguageDetector` interface: a BLOOM language code with a confidence, or "not sure"."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.language.languages import UNDETERMINED

# Texts longer than this are classified in a worker thread so the event loop keeps serving.
OFF_LOOP_CHARS = 600


@dataclass(frozen=True)
class Detection:
    """What a detector concluded about a text.

    `language` is a BLOOM code, or "und" when the detector is not sure; `confidence` is its
    probability for the best candidate (0 when it saw nothing to go on); `scores` holds the
    probabilities of the BLOOM languages it considered, best first, when it has them;
    `script` is the Unicode script most of the letters are in, when the detector looked.
    """

    language: str
    confidence: float = 0.0
    scores: Mapping[str, float] = field(default_factory=dict)
    script: str | None = None

    @property
    def sure(self) -> bool:
        """Whether the detector named a language rather than answering "not sure"."""
        return self.language != UNDETERMINED

    def score(self, code: str) -> float:
        """The probability the detector gave `code` (0 when it did not consider it)."""
        return self.scores.get(code, 0.0)


UNSURE = Detection(UNDETERMINED)


class LanguageDetector(ABC):
    """Names the BLOOM language of a text, restricted to the languages it can tell apart."""

    name: str = "detector"

    @property
    @abstractmethod
    def languages(self) -> frozenset[str]:
        """The BLOOM codes this detector can answer."""

    @abstractmethod
    def detect(self, text: str) -> Detection:
        """The language of `text`; "und" when the detector is not sure. CPU only, no I/O."""

    async def adetect(self, text: str) -> Detection:
        """`detect` for async callers: long texts run in a worker thread, off the event loop."""
        if len(text) > OFF_LOOP_CHARS:
            return await asyncio.to_thread(self.detect, text)
        return self.detect(text)
