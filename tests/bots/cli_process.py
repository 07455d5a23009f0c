"""Runs the `bloombridge` command line in a real child process, as an operator would."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

# Generous: a loaded CI machine starts Python and the language models slowly.
_LIMIT_SECONDS = 120.0


@dataclass(frozen=True)
class CliResult:
    """What the process left behind: exit code and decoded output."""

    returncode: int
    stdout: str
    stderr: str


def cli_environment(**settings: str) -> dict[str, str]:
    """This environment without any BLOOMBRIDGE_ or HF_ variable, offline, plus `settings`.

    Keys are setting names without the prefix (`tgi_urls`) or whole variable names (`HF_HOME`).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLOOMBRIDGE_", "HF_"))}
    env["HF_HUB_OFFLINE"] = "1"
    for name, value in settings.items():
        env[name if name.isupper() else f"BLOOMBRIDGE_{name.upper()}"] = value
    return env


async def run_cli(*args: str, stdin: str | bytes = "", env: dict[str, str]) -> CliResult:
    """`python -m bots.cli ARGS` with `stdin` (text is sent as UTF-8) as its input."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.cli",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    async with asyncio.timeout(_LIMIT_SECONDS):
        raw = stdin.encode() if isinstance(stdin, str) else stdin
        stdout, stderr = await process.communicate(raw)
    assert process.returncode is not None
    return CliResult(process.returncode, stdout.decode(), stderr.decode())


@asynccontextmanager
async def running_cli(
    *args: str,
    env: dict[str, str],
    stdin: int = asyncio.subprocess.DEVNULL,
    stdout: int = asyncio.subprocess.DEVNULL,
    stderr: int = asyncio.subprocess.DEVNULL,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m bots.cli ARGS` running in the background; killed on exit if still running."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.cli",
        *args,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        env=env,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
