"""`bloombridge safety check`: judge one text per input line with the configured classifiers.

Prints, per line, `allow` or `block <category>` (`block guard_unavailable` when a guard model
cannot be reached and replies are held), so operators can try the policy on their own examples.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from bots.safety_setup import build_policy
from bots.settings import Settings, load_settings
from core.safety.base import Role
from core.safety.policy import SafetyPolicy


async def check_lines(
    policy: SafetyPolicy, lines: Iterable[str], *, language: str, role: Role, out: TextIO
) -> int:
    """Judge each non-empty line; returns how many were blocked."""
    blocked = 0
    for line in lines:
        text = line.rstrip("\n")
        if not text.strip():
            continue
        assessment = await policy.assess(text, language=language, role=role)
        if assessment.blocked:
            blocked += 1
            out.write(f"block {assessment.reason}\n")
        else:
            out.write("allow\n")
        out.flush()
    return blocked


async def run_check(
    settings: Settings, lines: Iterable[str], *, language: str, role: Role, out: TextIO
) -> int:
    """The `safety check` command with these settings; exit code 0 (blocks are not errors)."""
    policy = build_policy(settings)
    try:
        await check_lines(policy, lines, language=language, role=role, out=out)
    finally:
        await policy.aclose()
    return 0


def _handle(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    role = Role.USER if args.role == "user" else Role.ASSISTANT
    return asyncio.run(
        run_check(settings, sys.stdin, language=args.language, role=role, out=sys.stdout)
    )


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add `safety check` to the command line."""
    safety = subparsers.add_parser("safety", help="try the safety policy on your own examples")
    actions = safety.add_subparsers(dest="safety_command", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check", help="read one text per line from standard input; print allow or block <category>"
    )
    check.add_argument(
        "--language", default="und", help="language code of the texts (default: und, all lists)"
    )
    check.add_argument(
        "--role",
        choices=("assistant", "user"),
        default="assistant",
        help="judge the texts as bot replies (default) or as user messages",
    )
    check.set_defaults(handler=_handle)
