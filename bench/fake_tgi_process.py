"""Runs the fake TGI server in its own process, so benchmarks don't share its event loop."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import Iterator

from bench.guards import synthetic_tokens
from tests.fakes.tgi import FakeInfo, FakeTGI, Script


async def _serve(reply_tokens: int) -> None:
    # Prose in sentences, as a model writes: guards release text sentence by sentence.
    script = Script(reply=synthetic_tokens("en", reply_tokens))
    async with FakeTGI(default=script, info=FakeInfo(max_input_tokens=1024)) as tgi:
        print(tgi.url, flush=True)
        # Serve until the parent closes our standard input.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


@contextlib.contextmanager
def fake_tgi_process(reply_tokens: int) -> Iterator[str]:
    """Start the fake in a child process answering `reply_tokens` tokens; yields its URL."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_tgi_process", str(reply_tokens)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        yield child.stdout.readline().strip()
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1])))
