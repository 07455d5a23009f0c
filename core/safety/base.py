"""The `SafetyClassifier` interface: judge a text for a role and language, return scored categories."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType

from core.errors import BloombridgeError


class Role(enum.Enum):
    """Whose text is judged: the user's message or the bot's reply."""

    USER = "user"
    ASSISTANT = "assistant"


class SafetyUnavailable(BloombridgeError):
    """A classifier could not give a verdict (its endpoint is down, timed out or answered garbage).

    `classifier` names it, so the policy can fall back or hold replies as configured.
    """

    def __init__(self, message: str, *, classifier: str) -> None:
        super().__init__(message)
        self.classifier = classifier


@dataclass(frozen=True)
class SafetyVerdict:
    """Categories a classifier found, each with a score in [0, 1]; empty means nothing found.

    Category names are shared across classifiers (see `core.safety.categories`), so one policy
    can say which of them block a reply.
    """

    classifier: str
    categories: Mapping[str, float] = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        """Whether the classifier found anything at all (the policy decides what blocks)."""
        return bool(self.categories)


class TextWatcher(ABC):
    """Judges one growing text (a streamed reply), reading only what was added since last time."""

    @abstractmethod
    def verdict(self, text: str) -> SafetyVerdict:
        """The verdict on the whole of `text`; a text that does not extend the last one is read anew."""

    @abstractmethod
    def release(self, text: str) -> tuple[SafetyVerdict, int]:
        """The verdict on the finished words of `text`, and how much of `text` may be shown.

        A word is finished once a separator follows it; finished words that may still become
        part of something judged (a listed phrase, a spaced-out word) are not shown yet.
        """


class SafetyClassifier(ABC):
    """One way of judging text; use as an async context manager when it holds connections."""

    name: str = "classifier"

    @abstractmethod
    async def classify(
        self, text: str, *, language: str, role: Role, prompt: str = ""
    ) -> SafetyVerdict:
        """Judge `text` written in `language` by `role`; `prompt` is the user's message a reply answers.

        Raises `SafetyUnavailable` when no verdict can be had.
        """

    def verdict_now(self, text: str, language: str) -> SafetyVerdict | None:
        """The verdict without awaiting, from classifiers cheap enough to run inline; else None."""
        return None

    def watch(self, language: str) -> TextWatcher | None:
        """A watcher giving `verdict_now`'s verdicts on a growing text incrementally, or None."""
        return None

    async def aclose(self) -> None:
        """Release connections or models."""

    async def __aenter__(self) -> SafetyClassifier:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
