"""The `bloombridge run PLATFORM` group that every platform bot adds its subcommand to."""

from __future__ import annotations

import argparse
from typing import Any

_PLATFORMS: dict[int, argparse._SubParsersAction[Any]] = {}


def platform_subparsers(
    subparsers: argparse._SubParsersAction[Any],
) -> argparse._SubParsersAction[Any]:
    """The subparsers of `run`, created by the first platform that asks for them."""
    run = subparsers.choices.get("run")
    if run is None:
        run = subparsers.add_parser("run", help="run a chat platform bot until stopped")
        _PLATFORMS[id(run)] = run.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    return _PLATFORMS[id(run)]
