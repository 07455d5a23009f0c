"""👍/👎 buttons under a finished reply: persistent discord.py dynamic items keyed by reply id."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from core.messages import FinishReason, Reply

# Replies that are the model's work get feedback buttons; the bot's own answers do not.
RATED_FINISHES = frozenset(
    {FinishReason.STOP, FinishReason.LENGTH, FinishReason.CUT, FinishReason.INTERRUPTED}
)
_PREFIX = "bb:fb"
_VALUES = {"up": 1, "down": -1}
# custom_id holds at most 100 characters.
_TEMPLATE = rf"{_PREFIX}:(?P<vote>up|down):(?P<reply>[A-Za-z0-9_.-]{{1,80}})"

FeedbackCallback = Callable[[discord.Interaction[Any], str, int], Awaitable[None]]
"""(the button interaction, reply id, +1 / -1): stores the vote and answers the press."""


def feedback_custom_id(reply_id: str, value: int) -> str:
    """The custom_id of a feedback button."""
    return f"{_PREFIX}:{'up' if value > 0 else 'down'}:{reply_id}"


def parse_feedback_custom_id(custom_id: str) -> tuple[str, int] | None:
    """(reply id, vote) of a feedback button's custom_id, or None for any other component."""
    match = re.fullmatch(_TEMPLATE, custom_id)
    if match is None:
        return None
    return match["reply"], _VALUES[match["vote"]]


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=_TEMPLATE,
):
    """One 👍 or 👎 button. Registered once per client (`add_dynamic_items`), so presses on
    replies sent before a restart still reach the bot: the reply id is in the custom_id."""

    def __init__(self, reply_id: str, value: int) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji="👍" if value > 0 else "👎",
                custom_id=feedback_custom_id(reply_id, value),
            )
        )
        self.reply_id = reply_id
        self.value = value

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> FeedbackButton:
        return cls(match["reply"], _VALUES[match["vote"]])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        on_feedback: FeedbackCallback | None = getattr(interaction.client, "on_feedback", None)
        if on_feedback is not None:
            await on_feedback(interaction, self.reply_id, self.value)


def feedback_view(reply: Reply | None) -> discord.ui.View | None:
    """The buttons for a finished model reply that has an id; None for anything else.

    The view never times out and holds only dynamic items, so discord.py keeps no state
    for it per message: any client that registered FeedbackButton handles the press.
    """
    if reply is None or not reply.id or reply.finish_reason not in RATED_FINISHES:
        return None
    if parse_feedback_custom_id(feedback_custom_id(reply.id, 1)) is None:
        return None  # an id the custom_id cannot carry
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackButton(reply.id, 1))
    view.add_item(FeedbackButton(reply.id, -1))
    return view
