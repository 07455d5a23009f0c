"""Runs the fake TGI server in its own process, so benchmarks don't share its event loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.guards import synthetic_tokens
from tests.fakes.tgi import FakeInfo, FakeTGI, GenerateCall, Responder, Script


def _responder(
    replies: Mapping[str, Sequence[str]], token_delay: float, default: Script
) -> Responder:
    def respond(call: GenerateCall) -> Script:
        # The reply whose key (a user message) is in the prompt; the default otherwise.
        for key, tokens in replies.items():
            if key in call.inputs:
                return Script(reply=list(tokens), token_delay=token_delay)
        return default

    return respond


async def _serve(spec: Mapping[str, Any]) -> None:
    token_delay = float(spec["token_delay"])
    # Prose in sentences, as a model writes.
    default = Script(
        reply=synthetic_tokens("en", int(spec["reply_tokens"])), token_delay=token_delay
    )
    info = FakeInfo(max_input_tokens=1024, max_total_tokens=int(spec["max_total_tokens"]))
    async with FakeTGI(default=default, info=info) as tgi:
        tgi.responder = _responder(spec["replies"], token_delay, default)
        print(tgi.url, flush=True)
        # Serve until the parent closes our standard input; each line it sends asks for this
        # process's CPU seconds so far.
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(None, sys.stdin.readline):
            print(time.process_time(), flush=True)


@dataclass(frozen=True)
class FakeTgiChild:
    """The fake TGI's child process: its URL, and its CPU time on request."""

    url: str
    _child: subprocess.Popen[str]

    def cpu_seconds(self) -> float:
        """The child's CPU seconds so far, all its threads."""
        assert self._child.stdin is not None and self._child.stdout is not None
        self._child.stdin.write("cpu\n")
        self._child.stdin.flush()
        return float(self._child.stdout.readline())


@contextlib.contextmanager
def fake_tgi_process(
    reply_tokens: int = 200,
    *,
    replies: Mapping[str, Sequence[str]] | None = None,
    token_delay: float = 0.0,
    max_total_tokens: int = 2048,
) -> Iterator[FakeTgiChild]:
    """Start the fake in a child process; yields its handle (`.url`).

    A prompt holding a key of `replies` gets that reply's tokens; any other prompt gets
    `reply_tokens` tokens of English prose. Every token is sent `token_delay` seconds apart.
    `/info` says `max_total_tokens` (BLOOMChat's context, 2048, unless longer replies are wanted).
    """
    spec = {
        "reply_tokens": reply_tokens,
        "replies": {key: list(tokens) for key, tokens in (replies or {}).items()},
        "token_delay": token_delay,
        "max_total_tokens": max_total_tokens,
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_tgi_process"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps(spec) + "\n")
        child.stdin.flush()
        yield FakeTgiChild(child.stdout.readline().strip(), child)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(_serve(json.loads(sys.stdin.readline())))
