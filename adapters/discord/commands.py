"""Discord application commands: /ask, and the shared catalogue (/help /reset /forget /lang).

Names stay English; descriptions are registered in every language the notice catalogs
translate. Each command is deferred first (Discord wants an answer within three seconds),
then handed to the adapter's `CommandCallback`, which answers it by follow-up.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from adapters.discord.translate import ASK_COMMAND
from core.commands import CATALOGUE, CommandInfo
from core.notices import FALLBACK_LANGUAGE, notice

logger = logging.getLogger(__name__)

CommandCallback = Callable[[discord.Interaction[Any], str, str | None], Awaitable[None]]
"""(the deferred interaction, command name, its text option or None): answers the command."""

# /start is Telegram's greeting convention; Discord users find the bot's commands by "/".
_NOT_ON_DISCORD = frozenset({"start"})
_OPTION_NAMES = {"lang": "language"}
# Discord locales whose notice catalog is not found by the locale's base language.
_NOTICE_LANGUAGES = {"zh-TW": "zh-hant"}
COMMAND_NAMES = frozenset(
    {ASK_COMMAND} | {c.name for c in CATALOGUE if c.name not in _NOT_ON_DISCORD}
)


def _text(key: str) -> app_commands.locale_str:
    """A command text in English, translated from the notice catalogs when registered."""
    return app_commands.locale_str(notice(key, FALLBACK_LANGUAGE)[:100], notice=key)


class NoticeTranslator(app_commands.Translator):
    """Descriptions come from the bot's notice catalogs; anything else stays English."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("notice")
        if key is None:
            return None
        translated = notice(key, _NOTICE_LANGUAGES.get(locale.value, locale.value))
        return None if translated == notice(key, FALLBACK_LANGUAGE) else translated[:100]


def _command(
    name: str,
    description: app_commands.locale_str,
    option: tuple[str, str | app_commands.locale_str] | None,
    run: CommandCallback,
) -> app_commands.Command[Any, Any, None]:
    """One slash command; `option` is (name, description) of its one text option."""
    if option is None:

        async def without_option(interaction: discord.Interaction[Any]) -> None:
            await run(interaction, name, None)

        return app_commands.Command(name=name, description=description, callback=without_option)

    async def with_option(interaction: discord.Interaction[Any], text: str) -> None:
        await run(interaction, name, text)

    option_name, option_description = option
    callback = app_commands.rename(text=option_name)(
        app_commands.describe(text=option_description)(with_option)
    )
    return app_commands.Command(name=name, description=description, callback=callback)


def _catalogue_command(
    info: CommandInfo, run: CommandCallback
) -> app_commands.Command[Any, Any, None]:
    option: tuple[str, str | app_commands.locale_str] | None = None
    if info.arguments:
        option = (_OPTION_NAMES.get(info.name, "arguments"), info.arguments)
    return _command(info.name, _text(f"command_{info.name}"), option, run)


def build_command_tree(
    client: discord.Client, on_command: CommandCallback
) -> app_commands.CommandTree[Any]:
    """A command tree with the bot's commands; `sync_commands` registers it with Discord."""
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)

    async def run(interaction: discord.Interaction[Any], name: str, option: str | None) -> None:
        await interaction.response.defer(thinking=True)
        await on_command(interaction, name, option)

    question = ("question", _text("command_ask_question"))
    tree.add_command(_command(ASK_COMMAND, _text("command_ask"), question, run))
    for info in CATALOGUE:
        if info.name not in _NOT_ON_DISCORD:
            tree.add_command(_catalogue_command(info, run))
    return tree


async def sync_commands(tree: app_commands.CommandTree[Any]) -> None:
    """Register the commands globally (one bulk overwrite, so repeating it is harmless)."""
    await tree.set_translator(NoticeTranslator())
    commands = await tree.sync()
    logger.info("registered %d Discord application commands", len(commands))
