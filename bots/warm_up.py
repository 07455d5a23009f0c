"""Start-up warm-up: pay first-use costs before the first user does, not during their message."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from core.dialog import DialogManager
from core.errors import BloombridgeError
from core.guards.base import GuardContext
from core.messages import ConversationRef, IncomingMessage, Sender

logger = logging.getLogger(__name__)

_SAMPLE = "Hello! Could you tell me, in two sentences, why rivers bend? Thank you."


async def warm_up(dialog: DialogManager) -> None:
    """Compile lazily built patterns, open the model connection, learn the replicas' limits.

    The language policy and every guard read a sample message once (patterns compiled and
    detectors loaded on first use), and the model backend is asked for its limits (the
    HTTP stack's first connection and imports, each replica's in-flight limit). A model that
    does not answer yet is not an error here: the first message asks again.
    """
    message = IncomingMessage(
        id="warm-up",
        conversation=ConversationRef("warm-up", None, "warm-up"),
        sender=Sender(id="warm-up", locale_hint="en"),
        text=_SAMPLE,
        sent_at=datetime.now(UTC),
    )
    language = await dialog.language_policy.choose(message, [], None)
    try:
        await dialog.generator.info()
    except BloombridgeError as exc:
        logger.info("model not reached during warm-up (asked again on first use): %s", exc)
    context = GuardContext(message, language, (), dialog.generator, dialog.config.generation)
    for guard in dialog.guards:
        session = guard.begin(context)
        try:
            # Not final: no guard asks a remote model about unfinished text.
            await session.check(_SAMPLE, final=False)
        except BloombridgeError as exc:
            logger.info("guard %s not warmed up: %s", guard.name, exc)
        finally:
            await session.aclose()
