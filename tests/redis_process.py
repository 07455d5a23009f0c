"""A redis-server of a test's own, on a free loopback port, that the test may stop and restart."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from types import TracebackType

_READY = b"Ready to accept connections"
_START_LIMIT_SECONDS = 20.0


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisProcess:
    """`async with RedisProcess() as redis`: `redis.url` answers until `stop()`.

    Nothing is persisted, so a restarted server is empty, unless `append_only_dir` is given:
    then every write is in an append-only file there (fsync always) and survives a restart.
    With `password` the server requires AUTH; `url_with` gives its URL with any credentials.
    """

    def __init__(self, *, password: str | None = None, append_only_dir: Path | None = None) -> None:
        self.port = free_port()
        self._password = password
        self._append_only_dir = append_only_dir
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return self.url_with(self._password)

    def url_with(self, password: str | None) -> str:
        """The server's URL with `password` (none when None) as its credentials."""
        credentials = f":{password}@" if password is not None else ""
        return f"redis://{credentials}127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        """Start the server and return once it accepts connections (it says so on stdout)."""
        process = await asyncio.create_subprocess_exec(
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            *self._persistence(),
            *(("--requirepass", self._password) if self._password is not None else ()),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._process = process
        assert process.stdout is not None
        async with asyncio.timeout(_START_LIMIT_SECONDS):
            while _READY not in await process.stdout.readline():
                if process.stdout.at_eof():
                    raise RuntimeError(f"redis-server did not start on port {self.port}")

    def _persistence(self) -> tuple[str, ...]:
        if self._append_only_dir is None:
            return ("--appendonly", "no")
        return (
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--dir",
            str(self._append_only_dir),
        )

    async def stop(self) -> None:
        """Stop the server; every connection to it is closed."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.terminate()
            await process.wait()

    async def __aenter__(self) -> RedisProcess:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
