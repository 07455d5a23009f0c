"""Admission: who may use the model (allowlist) and how often (per-user and per-chat limits).

Limits are moving windows kept by the `limits` library, in Redis when the bot has one (so
every process of a deployment counts together) or in memory. A storage failure admits the
message and logs it: a broken limiter must not silence the bot.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from core.errors import ConfigurationError
from core.messages import IncomingMessage
from core.store.outage import StoreOutage
from core.store.redis_pool import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_POOL_TIMEOUT_SECONDS,
    WaitingConnectionPool,
)

logger = logging.getLogger(__name__)

NOT_ALLOWED = "not_allowed"
RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class AdmissionPolicy:
    """Allowlists and limits; empty allowlists admit everyone, a limit of None is no limit.

    Allowlist entries are `platform:id`: a sender id in `allowed_senders`; a channel, Slack
    team or Discord guild id in `allowed_conversations`. A message is allowed when its sender
    or its conversation is listed. Limits use the `limits` notation, e.g. "20/minute".
    """

    allowed_senders: frozenset[str] = frozenset()
    allowed_conversations: frozenset[str] = frozenset()
    per_user: str | None = "20/minute"
    per_conversation: str | None = "60/minute"


@dataclass(frozen=True)
class Refusal:
    """Why a message is not answered by the model; `retry_after` is in whole seconds."""

    reason: str
    retry_after: int = 0


def _limit(notation: str | None, setting: str) -> RateLimitItem | None:
    if not notation:
        return None
    try:
        return parse(notation)
    except ValueError as exc:
        raise ConfigurationError(
            f"{setting}: {notation!r} is not a limit like '20/minute'"
        ) from exc


def rate_limit_storage(
    redis_url: str | None,
    namespace: str,
    *,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    pool_timeout_seconds: float = DEFAULT_POOL_TIMEOUT_SECONDS,
) -> Storage:
    """Redis (through redis-py, already a dependency) when configured, else process memory.

    Redis connections come from a bounded pool where a check waits for a free connection.
    """
    if redis_url is None:
        return MemoryStorage()
    pool = WaitingConnectionPool.from_url(
        redis_url, max_connections=max_connections, timeout=pool_timeout_seconds
    )
    pool.purpose = "rate limit"
    # `limits` documents `connection_pool` among its options; their annotation omits it.
    options: dict[str, Any] = {"connection_pool": pool}
    return RedisStorage(
        f"async+{redis_url}",
        implementation="redispy",
        key_prefix=f"{namespace}:ratelimit",
        wrap_exceptions=True,
        **options,
    )


class Admission:
    """Decides whether a message may reach the model."""

    def __init__(
        self,
        policy: AdmissionPolicy,
        storage: Storage,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._policy = policy
        self._per_user = _limit(policy.per_user, "per-user rate limit")
        self._per_conversation = _limit(policy.per_conversation, "per-chat rate limit")
        self._limiter = MovingWindowRateLimiter(storage)
        self._clock = clock
        self._outage = StoreOutage(logger, subject="the rate-limit store")

    def allows(self, message: IncomingMessage) -> bool:
        """Whether the allowlists let this sender or conversation use the bot."""
        policy = self._policy
        if not policy.allowed_senders and not policy.allowed_conversations:
            return True
        conversation = message.conversation
        platform = conversation.platform
        places = {f"{platform}:{conversation.channel}"}
        if conversation.space is not None:
            places.add(f"{platform}:{conversation.space}")
        return f"{platform}:{message.sender.id}" in policy.allowed_senders or not places.isdisjoint(
            policy.allowed_conversations
        )

    async def admit(self, message: IncomingMessage) -> Refusal | None:
        """None when the message may be answered, else why not."""
        if not self.allows(message):
            return Refusal(NOT_ALLOWED)
        conversation = message.conversation
        checks = (
            (self._per_user, ("user", conversation.platform, message.sender.id)),
            (self._per_conversation, ("conversation", conversation.key)),
        )
        try:
            for limit, identifiers in checks:
                if limit is not None and not await self._limiter.hit(limit, *identifiers):
                    stats = await self._limiter.get_window_stats(limit, *identifiers)
                    wait = max(1, math.ceil(stats.reset_time - self._clock()))
                    return Refusal(RATE_LIMITED, retry_after=wait)
        except StorageError as exc:
            # Messages are admitted; the outage is logged when it begins, not for each message.
            self._outage.failed("apply rate limits", exc.storage_error)
            return None
        self._outage.succeeded()
        return None
