"""Keeps a task's cancellation that a library swallowed inside a call."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cancellation_kept() -> Iterator[None]:
    """Raise CancelledError on leaving the block when the task was cancelled inside it.

    Python 3.11's `asyncio.wait_for` returns the inner call's result when that call finishes in
    the same loop step as a cancellation, and the cancellation is lost (fixed in 3.12). redis-py
    sends every command through `wait_for` when a socket timeout is set, so a process told to
    stop (SIGTERM cancels its main task) during a Redis call would otherwise run on. A
    cancellation that arrives inside the block outranks the block's result or error.
    """
    task = asyncio.current_task()
    before = task.cancelling() if task is not None else 0
    try:
        yield
    except asyncio.CancelledError:
        raise
    except Exception:
        if task is not None and task.cancelling() > before:
            raise asyncio.CancelledError from None
        raise
    if task is not None and task.cancelling() > before:
        raise asyncio.CancelledError
