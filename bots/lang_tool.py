"""`bloombridge lang detect`: the language the bot would detect for each line of standard input."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from bots.language_setup import build_language_policy, load_language_models
from bots.settings import Settings, load_settings


async def detect_lines(settings: Settings, lines: Iterable[str], out: TextIO) -> int:
    """Print one BLOOM code (or "und") per input line, as the bot would detect it."""
    await load_language_models(settings)
    policy = build_language_policy(settings)
    for line in lines:
        text = line.rstrip("\n")
        out.write(f"{await policy.detect_message(text)}\n")
        out.flush()
    return 0


def _handle(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    return asyncio.run(detect_lines(settings, sys.stdin, sys.stdout))


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add `lang detect` to the command line."""
    lang = subparsers.add_parser("lang", help="check the language detection on your own texts")
    actions = lang.add_subparsers(dest="lang_command", required=True, metavar="ACTION")
    detect = actions.add_parser(
        "detect",
        help="read one text per line from standard input; print its BLOOM language code "
        "(und when not sure), as the bot would detect it",
    )
    detect.set_defaults(handler=_handle)
