"""The application commands /ask, /reset, /forget and /lang, registered with localized texts.

Each command is deferred first (Discord wants an answer within three seconds) and then
answered by follow-up through the `CommandCallback` the adapter provides.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from core.notices import FALLBACK_LANGUAGE, notice

logger = logging.getLogger(__name__)

CommandCallback = Callable[[discord.Interaction[Any], str, str | None], Awaitable[None]]
"""(the deferred interaction, command name, its text option or None): answers the command."""

COMMAND_NAMES = ("ask", "reset", "forget", "lang")


def _text(key: str) -> app_commands.locale_str:
    """A command text in English, translated from the notice catalogs when registered."""
    return app_commands.locale_str(notice(key, FALLBACK_LANGUAGE), notice=key)


class NoticeTranslator(app_commands.Translator):
    """Command names stay English; descriptions come from the bot's notice catalogs."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("notice")
        if key is None:
            return None
        translated = notice(key, locale.value)
        return None if translated == notice(key, FALLBACK_LANGUAGE) else translated[:100]


def build_command_tree(
    client: discord.Client, on_command: CommandCallback
) -> app_commands.CommandTree[Any]:
    """A command tree with the bot's commands; `sync_commands` registers it with Discord."""
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)

    async def run(interaction: discord.Interaction[Any], name: str, option: str | None) -> None:
        await interaction.response.defer(thinking=True)
        await on_command(interaction, name, option)

    @tree.command(name="ask", description=_text("command_ask"))
    @app_commands.describe(question=_text("command_ask_question"))
    async def ask(interaction: discord.Interaction[Any], question: str) -> None:
        await run(interaction, "ask", question)

    @tree.command(name="reset", description=_text("command_reset"))
    async def reset(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "reset", None)

    @tree.command(name="forget", description=_text("command_forget"))
    async def forget(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "forget", None)

    @tree.command(name="lang", description=_text("command_lang"))
    @app_commands.describe(language=_text("command_lang_code"))
    async def lang(interaction: discord.Interaction[Any], language: str) -> None:
        await run(interaction, "lang", language)

    return tree


async def sync_commands(tree: app_commands.CommandTree[Any]) -> None:
    """Register the commands globally (one bulk overwrite, so repeating it is harmless)."""
    await tree.set_translator(NoticeTranslator())
    commands = await tree.sync()
    logger.info("registered %d Discord application commands", len(commands))
