"""👍/👎 buttons under a finished reply: persistent discord.py dynamic items keyed by reply id."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from adapters.feedback import decode_vote, encode_vote, is_rated
from core.messages import Reply

# The shared vote payload ("fb:up:<reply id>") as a custom_id (at most 100 characters).
_TEMPLATE = r"fb:(?:up|down):[A-Za-z0-9_.-]{1,90}"

FeedbackCallback = Callable[[discord.Interaction[Any], str], Awaitable[None]]
"""(the button interaction, its custom_id): the adapter records the vote and answers."""


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=_TEMPLATE,
):
    """One 👍 or 👎 button. Registered once per client (`add_dynamic_items`), so presses on
    replies sent before a restart still reach the bot: the reply id is in the custom_id."""

    def __init__(self, custom_id: str) -> None:
        decoded = decode_vote(custom_id)
        value = 1 if decoded is None else decoded[1]
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji="👍" if value > 0 else "👎",
                custom_id=custom_id,
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> FeedbackButton:
        return cls(match.group(0))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        on_feedback: FeedbackCallback | None = getattr(interaction.client, "on_feedback", None)
        custom_id = self.item.custom_id
        if on_feedback is not None and custom_id is not None:
            await on_feedback(interaction, custom_id)


def feedback_view(reply: Reply | None) -> discord.ui.View | None:
    """The buttons for a finished model reply that has an id; None for anything else.

    The view never times out and holds only dynamic items, so discord.py keeps no state
    for it per message: any client that registered FeedbackButton handles the press.
    """
    if reply is None or not is_rated(reply):
        return None
    up, down = encode_vote(reply.id, 1), encode_vote(reply.id, -1)
    if re.fullmatch(_TEMPLATE, up) is None:
        return None  # an id the custom_id cannot carry
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackButton(up))
    view.add_item(FeedbackButton(down))
    return view
