"""The safety policy: which classifiers run, which categories block, what happens when one is down.

Per category the policy blocks or allows; a category blocks when a classifier scores it at or
above `threshold` (Qwen3Guard's "Controversial" scores 0.5, so it blocks only below that).

`hate` and `obscenity` have separate defaults. Hate (slurs, dehumanising terms) blocks both the
user's message and the reply. Obscenity blocks replies only: the bot never swears back, but a
user who swears still gets an answer (`allowed_from_users`). A workplace may block obscenity
from users too; a gaming server may allow it everywhere (`allowed`).
When a remote classifier (the guard model) cannot answer, `on_unavailable` decides:

- `hold` (the default): nothing unchecked is shown; the reply is held back and the user is told
  that answers cannot be checked right now.
- `local`: the verdict of the in-process classifiers (word lists, a local model) stands alone.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from core.safety.base import Role, SafetyClassifier, SafetyUnavailable, SafetyVerdict
from core.safety.categories import DEFAULT_ALLOWED, DEFAULT_ALLOWED_FROM_USERS

logger = logging.getLogger(__name__)

GUARD_UNAVAILABLE = "guard_unavailable"  # the reason given when replies are held


class OnUnavailable(enum.StrEnum):
    """What to do when a remote classifier gives no verdict."""

    HOLD = "hold"
    LOCAL = "local"


@dataclass(frozen=True)
class PolicyConfig:
    """The operator's choices; `blocked` None means every category not in `allowed`."""

    allowed: frozenset[str] = DEFAULT_ALLOWED
    blocked: frozenset[str] | None = None
    allowed_from_users: frozenset[str] = DEFAULT_ALLOWED_FROM_USERS  # never refuse a message
    threshold: float = 0.8
    screen_user_messages: bool = True
    on_unavailable: OnUnavailable = OnUnavailable.HOLD
    log_text: bool = False  # put the judged text in the log line of a block (off: privacy)

    def blocks(self, category: str, score: float, role: Role = Role.ASSISTANT) -> bool:
        """Whether `category` found with `score` blocks a text written by `role`."""
        if score < self.threshold:
            return False
        if role is Role.USER and category in self.allowed_from_users:
            return False
        if self.blocked is not None:
            return category in self.blocked
        return category not in self.allowed


@dataclass(frozen=True)
class Assessment:
    """The policy's decision on one text.

    `held` is True when the text was blocked only because a classifier could not answer.
    `reason` is the blocking category (or `guard_unavailable`), empty when allowed.
    """

    blocked: bool
    reason: str = ""
    held: bool = False
    verdicts: tuple[SafetyVerdict, ...] = ()
    unavailable: tuple[str, ...] = field(default=())


ALLOWED = Assessment(blocked=False)


class SafetyPolicy:
    """Runs classifiers and applies the operator's choices; owns the classifiers it is given."""

    def __init__(
        self, classifiers: Sequence[SafetyClassifier], config: PolicyConfig | None = None
    ) -> None:
        self.classifiers = tuple(classifiers)
        self.config = config or PolicyConfig()

    async def assess(
        self,
        text: str,
        *,
        language: str,
        role: Role,
        prompt: str = "",
        classifiers: Iterable[SafetyClassifier] | None = None,
    ) -> Assessment:
        """Judge `text` with `classifiers` (default: all of them) at once, then decide."""
        chosen = tuple(self.classifiers if classifiers is None else classifiers)
        results = await asyncio.gather(
            *(c.classify(text, language=language, role=role, prompt=prompt) for c in chosen),
            return_exceptions=True,
        )
        verdicts: list[SafetyVerdict] = []
        unavailable: list[str] = []
        for classifier, result in zip(chosen, results, strict=True):
            if isinstance(result, SafetyUnavailable):
                logger.warning("safety classifier %s unavailable: %s", classifier.name, result)
                unavailable.append(classifier.name)
            elif isinstance(result, BaseException):
                raise result
            else:
                verdicts.append(result)
        assessment = self.decide(verdicts, unavailable, role=role)
        if assessment.blocked:
            self.log_block(assessment, text, language, role)
        return assessment

    def decide(
        self,
        verdicts: Sequence[SafetyVerdict],
        unavailable: Sequence[str] = (),
        *,
        role: Role = Role.ASSISTANT,
    ) -> Assessment:
        """The decision on `role`'s text from classifier verdicts; a block wins over an outage."""
        scored = [
            (score, category)
            for verdict in verdicts
            for category, score in verdict.categories.items()
            if self.config.blocks(category, score, role)
        ]
        if scored:
            _, category = max(scored)
            return Assessment(True, category, False, tuple(verdicts), tuple(unavailable))
        if unavailable and self.config.on_unavailable is OnUnavailable.HOLD:
            return Assessment(True, GUARD_UNAVAILABLE, True, tuple(verdicts), tuple(unavailable))
        return Assessment(False, "", False, tuple(verdicts), tuple(unavailable))

    def log_block(self, assessment: Assessment, text: str, language: str, role: Role) -> None:
        # Category and language only; the text only when the operator asked for it.
        if self.config.log_text:
            logger.info(
                "safety: blocked %s text (%s) in language %s: %r",
                role.value,
                assessment.reason,
                language,
                text,
            )
        else:
            logger.info(
                "safety: blocked %s text (%s) in language %s",
                role.value,
                assessment.reason,
                language,
            )

    async def aclose(self) -> None:
        """Close every classifier."""
        for classifier in self.classifiers:
            await classifier.aclose()
