"""A bounded Redis connection pool where callers wait for a free connection instead of failing.

redis-py's default asyncio pool raises "Too many connections" for the call after the last
connection is taken. Here a call waits (up to `timeout` seconds) for a connection to come back,
and the first time the pool is found full it says so in the log, once per pool.

Every connection reports the same client identity (CLIENT SETINFO), built once here: left to
itself, redis-py looks its own version up in the installed packages' metadata for each new
connection, milliseconds of CPU each, which a burst of conversations opening a hundred
connections at once spent most of its Redis time on.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from redis.asyncio import BlockingConnectionPool
from redis.asyncio.connection import AbstractConnection

logger = logging.getLogger(__name__)

# How many connections one process keeps to Redis, and how long a call waits for one
# (bots/settings.py refers to these defaults). A store call holds a connection for one round
# trip (well under a millisecond) and opening one costs about a millisecond of CPU (connect,
# HELLO, client identity): 32 serve a burst of hundreds of conversations, which opened a
# connection each at 100 and spent more CPU connecting than answering.
DEFAULT_MAX_CONNECTIONS = 32
DEFAULT_POOL_TIMEOUT_SECONDS = 10.0


def _client_identity() -> dict[str, Any]:
    """The connection options that set CLIENT SETINFO's values without a metadata lookup."""
    try:
        from redis import DriverInfo
    except ImportError:  # a redis-py without DriverInfo takes the version directly
        return {"lib_version": redis.__version__}
    return {"driver_info": DriverInfo(lib_version=redis.__version__)}


_CLIENT_IDENTITY = _client_identity()


class WaitingConnectionPool(BlockingConnectionPool):
    """At most `max_connections` connections; a call waits up to `timeout` s for one.

    `waiting` counts calls waiting for a connection right now.
    """

    def __init__(self, *args: Any, purpose: str = "Redis", **kwargs: Any) -> None:
        super().__init__(*args, **(_CLIENT_IDENTITY | kwargs))
        self.purpose = purpose
        self.waiting = 0
        self._reported_full = False

    async def get_connection(self, *args: Any, **kwargs: Any) -> AbstractConnection:
        if self.can_get_connection():
            return await self._get(*args, **kwargs)
        if not self._reported_full:
            self._reported_full = True
            logger.warning(
                "%s connection pool is full (%d connections): calls now wait up to %gs for one; "
                "raise BLOOMBRIDGE_REDIS_MAX_CONNECTIONS if this persists",
                self.purpose,
                self.max_connections,
                self.timeout or 0,
            )
        self.waiting += 1
        try:
            return await self._get(*args, **kwargs)
        finally:
            self.waiting -= 1

    async def _get(self, *args: Any, **kwargs: Any) -> AbstractConnection:
        connection: AbstractConnection = await super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call]
        return connection
