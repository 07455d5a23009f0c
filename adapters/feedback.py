"""Feedback votes on replies, for every platform: the button payload, and recording a vote once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from adapters.base import ChatHandler
from core.errors import BloombridgeError
from core.messages import ConversationRef, FinishReason, Reply
from core.notices import FALLBACK_LANGUAGE, notice

logger = logging.getLogger(__name__)

FEEDBACK_PREFIX = "fb"
_VOTES = {"up": 1, "down": -1}
# Replies that are the model's work get feedback controls; the bot's own answers do not.
RATED_FINISHES = frozenset(
    {FinishReason.STOP, FinishReason.LENGTH, FinishReason.CUT, FinishReason.INTERRUPTED}
)


@dataclass(frozen=True)
class FeedbackVote:
    """A 👍/👎 press on a reply: which press (`event_id`), who rated which reply, where."""

    event_id: str
    conversation: ConversationRef
    reply_id: str
    sender_id: str
    value: int
    locale_hint: str | None = None


def is_rated(reply: Reply | None) -> bool:
    """Whether a finished reply gets feedback controls."""
    return reply is not None and bool(reply.id) and reply.finish_reason in RATED_FINISHES


def encode_vote(reply_id: str, value: int) -> str:
    """The payload of a feedback control ("fb:up:<reply id>"): 6-8 bytes plus the id."""
    return f"{FEEDBACK_PREFIX}:{'up' if value > 0 else 'down'}:{reply_id}"


def decode_vote(payload: str) -> tuple[str, int] | None:
    """(reply id, +1 or -1) from a control's payload, or None when it is not a feedback vote."""
    prefix, _, rest = payload.partition(":")
    vote, _, reply_id = rest.partition(":")
    if prefix != FEEDBACK_PREFIX or vote not in _VOTES or not reply_id:
        return None
    return reply_id, _VOTES[vote]


def thanks(vote: FeedbackVote) -> str:
    """The short acknowledgement shown to the voter, in their language."""
    language = (vote.locale_hint or FALLBACK_LANGUAGE).replace("_", "-").split("-")[0]
    return notice("feedback_thanks", language.lower())


async def record_vote(handler: ChatHandler, platform: str, vote: FeedbackVote) -> bool:
    """Store the vote unless this very press was recorded before; True when it was stored now.

    A platform redelivers a press it thinks was lost; recording it again could overwrite
    a newer vote by the same user, so each press is claimed once in the store. When the
    claim itself fails the vote is stored anyway (a repeat only repeats the same rating).
    """
    try:
        first = await handler.claim_event(platform, f"vote:{vote.event_id}")
    except BloombridgeError as exc:
        logger.warning("could not claim a feedback vote, recording it anyway: %s", exc)
        first = True
    if not first:
        logger.info("feedback press %s was already recorded", vote.event_id)
        return False
    await handler.record_feedback(vote.conversation, vote.reply_id, vote.sender_id, vote.value)
    return True
