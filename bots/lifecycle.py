"""Runs a bot's main coroutine until it ends or the process gets SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from typing import Any


async def _until_signalled(main: Coroutine[Any, Any, None]) -> None:
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(main)
    for signum in (signal.SIGTERM, signal.SIGINT):
        # Not every platform lets a loop own signals; there Ctrl-C still raises KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)


def run_until_stopped(main: Coroutine[Any, Any, None]) -> None:
    """Run `main`; SIGTERM or SIGINT cancels it so context managers close connections cleanly."""
    asyncio.run(_until_signalled(main))
