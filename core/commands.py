"""Bot commands (/help, /reset, /forget, /lang): parsing and answers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.language_policy import LanguagePolicy
from core.messages import FinishReason, IncomingMessage, Reply
from core.notices import FALLBACK_LANGUAGE, available_languages, notice
from core.store.base import Store

# "/cmd", "/cmd@botname", then optional arguments; a path like "/usr/bin" is not a command.
_COMMAND = re.compile(r"^/(?P<name>[A-Za-z][A-Za-z0-9_]*)(?:@\S+)?(?:\s+(?P<args>.*))?$", re.DOTALL)


@dataclass(frozen=True)
class CommandInfo:
    """One entry of the command catalogue: its name and what it takes after it."""

    name: str
    arguments: str = ""  # e.g. "xx | auto", shown where platforms show usage hints

    def description(self, language: str) -> str:
        """The one-line description of the command in `language` (English as fallback)."""
        return notice(f"command_{self.name}", language)


# The one catalogue: every platform registers these (Telegram setMyCommands, a Slack slash
# command, Discord application commands) and the dialog answers them.
CATALOGUE: tuple[CommandInfo, ...] = (
    CommandInfo("start"),
    CommandInfo("help"),
    CommandInfo("reset"),
    CommandInfo("forget"),
    CommandInfo("lang", "xx | auto"),
)
KNOWN_COMMANDS = tuple(command.name for command in CATALOGUE)


def command_menus() -> list[tuple[str | None, list[tuple[str, str]]]]:
    """(language or None for the default, [(name, description)]) for every translated menu.

    The default menu is English; another language is listed only when its descriptions
    differ from the English ones.
    """
    english = [(command.name, command.description(FALLBACK_LANGUAGE)) for command in CATALOGUE]
    menus: list[tuple[str | None, list[tuple[str, str]]]] = [(None, english)]
    for code in available_languages():
        localized = [(command.name, command.description(code)) for command in CATALOGUE]
        if localized != english:
            menus.append((code, localized))
    return menus


def command_text(name: str, arguments: str = "") -> str:
    """The message text a platform's native command payload stands for ("/lang fr")."""
    name = name.strip().lstrip("/")
    return f"/{name} {arguments.strip()}".rstrip()


@dataclass(frozen=True)
class Command:
    """A parsed command: its lower-case name and the rest of the line."""

    name: str
    args: str


def parse_command(text: str) -> Command | None:
    """The command in `text`, or None when the text is an ordinary message."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    return Command(match["name"].lower(), (match["args"] or "").strip())


class CommandHandler:
    """Answers bot commands from the store; never calls the model."""

    def __init__(self, store: Store, policy: LanguagePolicy) -> None:
        self._store = store
        self._policy = policy

    async def answer(self, command: Command, message: IncomingMessage, language: str) -> Reply:
        """The reply to `command`, in `language`."""
        conversation = message.conversation
        if command.name in ("help", "start"):
            text = notice("help", language)
        elif command.name == "reset":
            await self._store.clear_history(conversation)
            text = notice("reset_done", language)
        elif command.name == "forget":
            await self._store.forget_sender(conversation, message.sender.id)
            text = notice("forget_done", language)
        elif command.name == "lang":
            return await self._set_language(command.args, message, language)
        else:
            text = notice("unknown_command", language, command=f"/{command.name}")
        return Reply(text, language, FinishReason.COMMAND)

    async def _set_language(self, args: str, message: IncomingMessage, language: str) -> Reply:
        code = args.split()[0].lower() if args.split() else ""
        conversation = message.conversation
        if code in ("", "auto"):
            await self._store.set_language(conversation, None)
            return Reply(notice("lang_auto", language), language, FinishReason.COMMAND)
        if not self._policy.is_supported(code):
            return Reply(
                notice("lang_unknown", language, code=code), language, FinishReason.COMMAND
            )
        await self._store.set_language(conversation, code)
        # Confirm in the newly chosen language: it is the one the user asked to read.
        text = notice("lang_set", code, language=self._policy.language_name(code))
        return Reply(text, code, FinishReason.COMMAND)
