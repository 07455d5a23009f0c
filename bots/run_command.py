"""`bloombridge run PLATFORM`: the one registry of chat platforms, and running any of them.

A platform bot module (`bots/<platform>_bot.py`) defines `BOT`, a `PlatformBot` that says
how to build its adapter from the settings and which settings are secrets; adding a
platform is one line in `PLATFORM_MODULES`. The CLI reads this registry: the command
line is never edited per platform.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr, ValidationError

from adapters.base import Adapter, ChatHandler
from bots.lifecycle import run_until_stopped
from bots.log_format import apply_log_format
from bots.operations import operations
from bots.redaction import apply_log_settings, redact_logs
from bots.settings import Settings, load_settings
from bots.wiring import build_dialog
from core.errors import ConfigurationError
from core.metrics import Metrics

# Platform name -> module defining `BOT`; imported only when used, so one platform's
# library missing or broken never stops the others.
PLATFORM_MODULES: dict[str, str] = {
    "telegram": "bots.telegram_bot",
    "discord": "bots.discord_bot",
    "slack": "bots.slack_bot",
}


# `bots.roles.Role` values (kept here so the parser imports no Redis client).
ROLE_NAMES = ("all", "ingress", "worker")


@dataclass(frozen=True)
class SettingOption:
    """A `run <platform>` command-line option that sets one setting (it wins over the rest)."""

    flag: str
    setting: str  # a `Settings` field, dotted inside a platform group ("slack.http_port")
    type: Callable[[str], Any]
    metavar: str
    help: str

    @property
    def dest(self) -> str:
        """The argparse attribute holding the option's value."""
        return self.setting.replace(".", "_")


# Declared here, not in the platform modules, so the parser never imports platform libraries.
PLATFORM_OPTIONS: dict[str, tuple[SettingOption, ...]] = {
    "slack": (
        SettingOption(
            "--http",
            "slack.http_port",
            int,
            "PORT",
            "serve the Events API over HTTP on PORT (at /slack/events) instead of Socket Mode",
        ),
    ),
}


@dataclass(frozen=True)
class PlatformBot:
    """What `bloombridge run <name>` needs to know about one platform."""

    name: str
    summary: str  # one line for `bloombridge run --help`
    build_adapter: Callable[[Settings, ChatHandler], Adapter]  # raises ConfigurationError
    secrets: Callable[[Settings], Sequence[SecretStr | None]]  # values kept out of logs
    # A queue worker's adapter, checking only what sending replies needs; None: build_adapter.
    build_sender: Callable[[Settings, ChatHandler], Adapter] | None = None

    def sender(self, settings: Settings, handler: ChatHandler) -> Adapter:
        """The adapter a queue worker sends replies with (`--role worker`)."""
        build = self.build_sender or self.build_adapter
        return build(settings, handler)


def platform_bot(name: str) -> PlatformBot:
    """The registered platform `name` (its module is imported now)."""
    module = importlib.import_module(PLATFORM_MODULES[name])
    bot: PlatformBot = module.BOT
    return bot


@asynccontextmanager
async def running_adapter(
    bot: PlatformBot, settings: Settings, *, metrics: Metrics | None = None
) -> AsyncIterator[Adapter]:
    """The dialog manager and a started adapter, closed in reverse order on exit.

    The operations endpoints (BLOOMBRIDGE_OPS_PORT) answer from before the platform
    connects until after it disconnects, reporting not ready meanwhile.
    """
    metrics = metrics or Metrics()
    async with build_dialog(settings, metrics=metrics) as dialog:
        adapter = bot.build_adapter(settings, dialog)
        ops = operations(
            settings,
            metrics=metrics,
            adapter=adapter,
            store=dialog.store,
            generator=dialog.generator,
        )
        async with ops, adapter:
            yield adapter


async def serve(bot: PlatformBot, settings: Settings) -> None:
    """Answer the platform until cancelled (SIGTERM, SIGINT)."""
    async with running_adapter(bot, settings) as adapter:
        await adapter.run()


def apply_options(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings with the platform's command-line options given on the command line."""
    given = {
        option.setting: getattr(args, option.dest)
        for option in PLATFORM_OPTIONS.get(args.platform, ())
        if getattr(args, option.dest, None) is not None
    }
    if not given:
        return settings
    values = settings.model_dump()
    for setting, value in given.items():
        *groups, name = setting.split(".")
        target = values
        for group in groups:
            target = target[group]
        target[name] = value
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        flags = ", ".join(o.flag for o in PLATFORM_OPTIONS[args.platform] if o.setting in given)
        problems = "; ".join(str(error["msg"]) for error in exc.errors())
        raise ConfigurationError(f"invalid {flags}: {problems}") from exc


def _run(args: argparse.Namespace) -> int:
    settings = apply_options(load_settings(args.config), args)
    apply_log_settings(settings)
    apply_log_format(settings.log_format)
    bot = platform_bot(args.platform)
    redact_logs(*(s.get_secret_value() for s in bot.secrets(settings) if s is not None))
    # Imported here: the roles build on this module's PlatformBot and serve.
    from bots.roles import Role, serve_role

    run_until_stopped(serve_role(Role(args.role), bot, settings))
    return 0


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add `run PLATFORM` with one choice per registered platform."""
    run = subparsers.add_parser("run", help="run a chat platform bot until stopped")
    platforms = run.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    for name in PLATFORM_MODULES:
        parser = platforms.add_parser(name, help=f"answer {name} chats until stopped")
        parser.set_defaults(handler=_run)
        parser.add_argument(
            "--role",
            choices=ROLE_NAMES,
            default="all",
            help="all: one process (default); ingress: receive events and queue them in Redis; "
            "worker: answer queued messages through the platform's Web API",
        )
        for option in PLATFORM_OPTIONS.get(name, ()):
            parser.add_argument(
                option.flag,
                dest=option.dest,
                type=option.type,
                metavar=option.metavar,
                default=None,
                help=option.help,
            )
