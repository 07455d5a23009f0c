"""Which channel threads the bot answers in, remembered in the store across restarts."""

from __future__ import annotations

import logging

from adapters.base import ChatHandler
from adapters.slack.translate import PLATFORM, thread_key
from core.errors import BloombridgeError
from core.messages import ConversationRef

logger = logging.getLogger(__name__)

# How long a thread is remembered after the bot's last answer there.
THREAD_MEMORY_SECONDS = 14 * 24 * 3600


class ThreadMemory:
    """Follow-ups in a thread the bot answered in need no mention; this remembers those threads.

    A store that cannot be reached forgets nothing and remembers nothing new: a follow-up
    without a mention then goes unanswered (it is logged), a mention is still answered.
    """

    def __init__(self, handler: ChatHandler, *, seconds: int = THREAD_MEMORY_SECONDS) -> None:
        self._handler = handler
        self._seconds = seconds

    async def remember(self, conversation: ConversationRef) -> None:
        """The bot answers in this thread (kept `seconds` from now)."""
        try:
            await self._handler.hold_event(
                PLATFORM, thread_key(conversation), hold_seconds=self._seconds
            )
        except BloombridgeError as exc:
            logger.warning("could not remember a Slack thread: %s", exc)

    async def answers_in(self, conversation: ConversationRef) -> bool:
        """Whether the bot answered in this thread within the memory period."""
        try:
            return await self._handler.is_claimed(PLATFORM, thread_key(conversation))
        except BloombridgeError as exc:
            logger.warning("could not look up a Slack thread: %s", exc)
            return False
