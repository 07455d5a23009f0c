"""The `Guard` interface: watch a reply as it grows and let it pass, cut it, resume it or replace it.

The dialog manager calls `Guard.screen` once on the user's message before generation, then
opens one `GuardSession` per reply and calls `check(text, final=...)` with the whole text so
far after every token (or, when several arrived while the guards judged, after all of them), and
once more with `final=True` on the complete reply. The user sees only the prefix that every
session has cleared.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from core.generation.base import GenerationParams, TextGenerator
from core.messages import IncomingMessage, Turn


class VerdictKind(enum.Enum):
    """What a guard wants done with the reply."""

    PASS = "pass"  # keep generating; text[:cleared] may be shown
    CUT = "cut"  # stop generation, end the reply at text[:at]
    RESUME = (
        "resume"  # stop generation, keep text[:at], generate again from there with `instruction`
    )
    REPLACE = "replace"  # stop generation, show `replacement` instead of the reply


@dataclass(frozen=True, slots=True)
class Verdict:
    """A guard's decision; build one with the class methods."""

    kind: VerdictKind
    cleared: int | None = None
    at: int = 0
    replacement: str = ""
    instruction: str = ""
    reason: str = ""

    @classmethod
    def allow(cls, cleared: int | None = None) -> Verdict:
        """Continue; `cleared` is how many leading characters may be shown (None: all)."""
        # Every guard answers this after every token: verdicts are immutable, so the common
        # ones are made once and shared.
        verdict = _ALLOWED.get(cleared)
        if verdict is None:
            verdict = cls(VerdictKind.PASS, cleared=cleared)
            if len(_ALLOWED) < _ALLOWED_KEPT:
                _ALLOWED[cleared] = verdict
        return verdict

    @classmethod
    def cut(cls, at: int, reason: str) -> Verdict:
        """Stop generation and end the reply after its first `at` characters."""
        return cls(VerdictKind.CUT, at=at, reason=reason)

    @classmethod
    def resume(cls, at: int, instruction: str, reason: str) -> Verdict:
        """Stop generation, keep the first `at` characters, and continue with an instruction."""
        return cls(VerdictKind.RESUME, at=at, instruction=instruction, reason=reason)

    @classmethod
    def replace(cls, replacement: str, reason: str) -> Verdict:
        """Stop generation and show `replacement` instead (e.g. a refusal)."""
        return cls(VerdictKind.REPLACE, replacement=replacement, reason=reason)


# PASS verdicts made once, by cleared length (a reply's lengths up to some thousands).
_ALLOWED: dict[int | None, Verdict] = {}
_ALLOWED_KEPT = 8192


@dataclass(frozen=True)
class GuardContext:
    """What a guard may know about the reply it watches."""

    message: IncomingMessage
    language: str  # BLOOM language code the reply must be in, or "und" when unknown
    history: Sequence[Turn]
    generator: TextGenerator  # the model, for guards that repair text (e.g. translation)
    params: GenerationParams


class GuardSession(ABC):
    """Per-reply state of one guard."""

    @abstractmethod
    async def check(self, text: str, *, final: bool) -> Verdict:
        """Judge the whole reply text so far; `final` is True once generation has ended."""

    def others_cleared(self, end: int) -> None:
        """Hear how far the other guards let the reply be shown at the last check.

        A guard may skip work on text past `end`: nobody could see it yet anyway.
        """

    async def aclose(self) -> None:
        """Release anything the session started (background checks)."""


class Guard(ABC):
    """A reply guard; `name` labels its interventions in metrics and logs."""

    name: str = "guard"

    async def screen(self, context: GuardContext) -> Verdict | None:
        """Judge the user's message before generation; a REPLACE verdict answers it instead."""
        return None

    async def vet(self, text: str, context: GuardContext) -> Verdict | None:
        """Judge finished text no session watched being written (a translation, a notice that
        repeats the user's words) before it is shown; a REPLACE verdict is shown instead."""
        return None

    @abstractmethod
    def begin(self, context: GuardContext) -> GuardSession:
        """Open a session for one reply."""
