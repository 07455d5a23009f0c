"""`bloombridge chat`: the console bot, interactive on a terminal, one reply per line otherwise."""

from __future__ import annotations

import argparse
import io
import sys
from typing import Any, TextIO

from adapters.console.adapter import ConsoleAdapter
from bots.lifecycle import run_until_stopped
from bots.redaction import apply_log_settings
from bots.settings import Settings, load_settings
from bots.wiring import build_dialog
from core.generation.local import describe_progress


async def chat(
    settings: Settings,
    *,
    input_stream: TextIO,
    output_stream: TextIO,
    user: str = "console-user",
    locale_hint: str | None = None,
    progress_stream: TextIO | None = None,
) -> None:
    """Run the console bot until the input ends; model load progress goes to `progress_stream`."""
    on_progress = None
    if progress_stream is not None:
        on_progress = describe_progress(lambda line: print(line, file=progress_stream, flush=True))
    async with (
        build_dialog(settings, on_progress=on_progress) as dialog,
        ConsoleAdapter(
            dialog,
            input_stream=input_stream,
            output_stream=output_stream,
            user=user,
            locale_hint=locale_hint,
        ) as adapter,
    ):
        await adapter.run()


def _run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    apply_log_settings(settings)
    # Bytes that are not UTF-8 become U+FFFD: one bad line must not end the whole session.
    for stream in (sys.stdin, sys.stdout):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")
    run_until_stopped(
        chat(
            settings,
            input_stream=sys.stdin,
            output_stream=sys.stdout,
            user=args.user,
            locale_hint=args.locale,
            progress_stream=sys.stderr,
        )
    )
    return 0


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `chat` subcommand."""
    parser = subparsers.add_parser("chat", help="chat with the bot in this terminal")
    parser.add_argument("--user", default="console-user", help="sender id of the console user")
    parser.add_argument("--locale", default=None, help="language hint, e.g. fr or pt-BR")
    parser.set_defaults(handler=_run)
