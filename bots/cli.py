"""The `bloombridge` command line: one subcommand per job, settings read once."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bots import console_bot, doctor, lang_tool, run_command, safety_tool
from bots.redaction import error_line, install_logging
from core.errors import BloombridgeError


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="bloombridge",
        description="BLOOMChat in your chats: console, Telegram, Slack and Discord bots.",
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="TOML settings file (environment wins)"
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    console_bot.register(subparsers)
    doctor.register(subparsers)
    run_command.register(subparsers)
    safety_tool.register(subparsers)
    lang_tool.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `bloombridge` command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    install_logging()
    try:
        exit_code: int = args.handler(args)
    except BloombridgeError as exc:
        # Operators get one sentence, not a traceback, for problems they can fix.
        print(error_line(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
