"""RedisStore: conversation state in Redis (7.0 or newer) through `redis.asyncio`."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import AuthenticationError, RedisError, WatchError

from core.cancellation import cancellation_kept
from core.errors import ConfigurationError, StoreError
from core.messages import ConversationRef, Turn
from core.store.base import Store
from core.store.keys import DEFAULT_FEEDBACK_TTL_SECONDS, DEFAULT_NAMESPACE, StoreKeys
from core.store.redis_pool import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_POOL_TIMEOUT_SECONDS,
    WaitingConnectionPool,
)
from core.store.validation import check_feedback_value, check_history_limits, check_ttl

MINIMUM_REDIS_MAJOR_VERSION = 7  # EXPIRE ... NX keeps a reply's feedback expiry fixed

# Attempts at the optimistic /forget rewrite before giving up under constant contention.
_FORGET_ATTEMPTS = 20

_REDIS_SCHEMES = ("redis", "rediss", "unix")

_TURN_FIELDS = frozenset(field.name for field in dataclasses.fields(Turn))


def redacted_url(url: str) -> str:
    """The URL without user name or password, safe for logs and error messages."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparsable URL>"
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def check_redis_url(url: str) -> None:
    """Reject a URL redis-py would misread: a bad port, or a database that is not a number.

    redis-py maps a database it cannot parse (`redis://host/abc`) silently to database 0, which
    would mix this bot's records into another application's.
    """
    try:
        parts = urlsplit(url)
        _ = parts.port  # reading the port validates it
    except ValueError as exc:
        raise ConfigurationError(f"{redacted_url(url)} is not a usable Redis URL: {exc}") from exc
    if parts.scheme not in _REDIS_SCHEMES:
        raise ConfigurationError(
            f"{redacted_url(url)} is not a Redis URL: it must start with "
            f"{', '.join(f'{scheme}://' for scheme in _REDIS_SCHEMES)}"
        )
    databases = [value for name, value in parse_qsl(parts.query) if name == "db"]
    if parts.scheme != "unix":
        databases.append(parts.path.strip("/"))
    for database in databases:
        if database and not database.isdigit():
            raise ConfigurationError(
                f"{redacted_url(url)} names the Redis database {database!r}: "
                "a database is a number, e.g. redis://host:6379/0"
            )


def _text(value: bytes | str) -> str:
    # The client decodes replies (decode_responses=True); its annotations still allow bytes.
    return value.decode() if isinstance(value, bytes) else value


def encode_turn(turn: Turn) -> str:
    """A turn as the JSON object stored in a history list."""
    return json.dumps(dataclasses.asdict(turn), ensure_ascii=False, sort_keys=True)


def decode_turn(raw: str) -> Turn:
    """A turn from its stored JSON; fields this version does not know are ignored."""
    try:
        data = json.loads(raw)
        return Turn(**{name: value for name, value in data.items() if name in _TURN_FIELDS})
    except (ValueError, TypeError, AttributeError) as exc:
        raise StoreError(f"a stored turn is not valid JSON of a turn: {raw[:80]!r}") from exc


class RedisStore(Store):
    """Every record under `namespace` (see `core.store.keys`); nothing connects before first use.

    `timeout_seconds` bounds connecting and each reply; `retries` is how many times a command
    is retried after a connection error or timeout, with jittered exponential backoff. At most
    `max_connections` connections are open; a call finding them all busy waits up to
    `pool_timeout_seconds` for one (see `core.store.redis_pool`).
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        timeout_seconds: float = 5.0,
        retries: int = 2,
        feedback_ttl_seconds: int = DEFAULT_FEEDBACK_TTL_SECONDS,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_timeout_seconds: float = DEFAULT_POOL_TIMEOUT_SECONDS,
    ) -> None:
        check_ttl(feedback_ttl_seconds)
        check_redis_url(url)
        self._keys = StoreKeys(namespace)
        self._location = redacted_url(url)
        self._feedback_ttl = feedback_ttl_seconds
        try:
            # from_url only parses the URL and builds a pool; connections open on first use.
            pool = WaitingConnectionPool.from_url(
                url,
                max_connections=max_connections,
                timeout=pool_timeout_seconds,
                decode_responses=True,
                socket_timeout=timeout_seconds,
                socket_connect_timeout=timeout_seconds,
                retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries),
            )
            pool.purpose = "store"
            self._client: Redis = Redis.from_pool(pool)
        except ValueError as exc:
            # redis-py's URL messages name the scheme or the bad option, never the password.
            raise ConfigurationError(f"{self._location} is not a usable Redis URL: {exc}") from exc

    @property
    def connection_pool(self) -> WaitingConnectionPool:
        """The store's bounded connection pool (its `waiting` count is what a test watches)."""
        pool = self._client.connection_pool
        assert isinstance(pool, WaitingConnectionPool)
        return pool

    @property
    def location(self) -> str:
        """Where the store lives, without credentials."""
        return self._location

    @asynccontextmanager
    async def _translated(self, action: str) -> AsyncIterator[None]:
        # A cancellation redis-py swallowed during the call is raised again.
        with cancellation_kept():
            try:
                yield
            except AuthenticationError as exc:
                raise StoreError(
                    f"Redis at {self._location} refused the credentials in its URL "
                    f"(could not {action}): {exc}"
                ) from exc
            except (RedisError, OSError) as exc:
                # redis-py's messages name host and port, never the password.
                raise StoreError(f"Redis at {self._location} could not {action}: {exc}") from exc

    async def ping(self) -> None:
        async with self._translated("answer PING"):
            await self._client.ping()
            info: dict[str, Any] = await self._client.info("server")
        version = str(info.get("redis_version", "0"))
        major = version.split(".", 1)[0]
        if not major.isdigit() or int(major) < MINIMUM_REDIS_MAJOR_VERSION:
            raise StoreError(
                f"Redis at {self._location} is version {version}; "
                f"bloombridge needs {MINIMUM_REDIS_MAJOR_VERSION}.0 or newer"
            )

    async def aclose(self) -> None:
        async with self._translated("close its connections"):
            await self._client.aclose()

    async def history(self, conversation: ConversationRef) -> list[Turn]:
        async with self._translated("read history"):
            raw_turns = await self._client.lrange(self._keys.history(conversation), 0, -1)
        return [decode_turn(_text(raw)) for raw in raw_turns]

    async def conversation_state(
        self, conversation: ConversationRef
    ) -> tuple[str | None, list[Turn]]:
        # One round trip for both reads (no MULTI: each read is consistent on its own).
        async with (
            self._translated("read the conversation"),
            self._client.pipeline(transaction=False) as pipe,
        ):
            pipe.get(self._keys.language(conversation))
            pipe.lrange(self._keys.history(conversation), 0, -1)
            language, raw_turns = await pipe.execute()
        turns = [decode_turn(_text(raw)) for raw in raw_turns]
        return (None if language is None else _text(language)), turns

    async def append_turn(
        self, conversation: ConversationRef, turn: Turn, *, max_turns: int, ttl_seconds: int
    ) -> None:
        check_history_limits(max_turns, ttl_seconds)
        key = self._keys.history(conversation)
        async with self._translated("append a turn"), self._client.pipeline() as pipe:
            # MULTI/EXEC: no reader sees the list over the cap or without its expiry.
            pipe.rpush(key, encode_turn(turn))
            pipe.ltrim(key, -max_turns, -1)
            pipe.expire(key, ttl_seconds)
            await pipe.execute()

    async def clear_history(self, conversation: ConversationRef) -> None:
        async with self._translated("clear history"):
            await self._client.delete(self._keys.history(conversation))

    async def language(self, conversation: ConversationRef) -> str | None:
        async with self._translated("read the language setting"):
            language = await self._client.get(self._keys.language(conversation))
        return None if language is None else _text(language)

    async def set_language(self, conversation: ConversationRef, language: str | None) -> None:
        key = self._keys.language(conversation)
        async with self._translated("save the language setting"):
            if language is None:
                await self._client.delete(key)
            else:
                await self._client.set(key, language)

    async def forget_sender(self, conversation: ConversationRef, sender_id: str) -> None:
        history_key = self._keys.history(conversation)
        index_key = self._keys.sender_feedback(conversation, sender_id)
        async with self._translated("forget a sender"), self._client.pipeline() as pipe:
            for _ in range(_FORGET_ATTEMPTS):
                try:
                    await self._forget_once(pipe, conversation, sender_id, history_key, index_key)
                    return
                except WatchError:
                    # Someone wrote the history or the sender's ratings meanwhile: read again.
                    continue
        raise StoreError(
            f"Redis at {self._location} could not forget a sender: "
            f"the conversation changed during {_FORGET_ATTEMPTS} attempts"
        )

    async def _forget_once(
        self,
        pipe: Pipeline,
        conversation: ConversationRef,
        sender_id: str,
        history_key: str,
        index_key: str,
    ) -> None:
        # WATCH, read, then MULTI/EXEC: the rewrite applies only if nothing changed since the read.
        await pipe.watch(history_key, index_key)
        raw_turns = [_text(raw) for raw in await pipe.lrange(history_key, 0, -1)]
        ttl_ms: int = await pipe.pttl(history_key)
        reply_ids = [_text(reply_id) for reply_id in await pipe.smembers(index_key)]
        kept = [raw for raw in raw_turns if decode_turn(raw).sender_id != sender_id]
        pipe.multi()  # type: ignore[no-untyped-call]
        if len(kept) != len(raw_turns):
            pipe.delete(history_key)
            if kept:
                pipe.rpush(history_key, *kept)
                if ttl_ms > 0:
                    pipe.pexpire(history_key, ttl_ms)
        for reply_id in reply_ids:
            pipe.hdel(self._keys.feedback(conversation, reply_id), sender_id)
        pipe.delete(index_key)
        await pipe.execute()

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        check_ttl(ttl_seconds)
        async with self._translated("claim a dedup key"):
            claimed = await self._client.set(self._keys.claim(key), "1", nx=True, ex=ttl_seconds)
        # SET ... NX answers OK when it wrote the key and nil when the key already existed.
        return bool(claimed)

    async def is_claimed(self, key: str) -> bool:
        async with self._translated("read a dedup key"):
            found = await self._client.exists(self._keys.claim(key))
        return bool(found)

    async def hold_claim(self, key: str, ttl_seconds: int) -> None:
        check_ttl(ttl_seconds)
        async with self._translated("hold a dedup key"):
            await self._client.set(self._keys.claim(key), "1", ex=ttl_seconds)

    async def save_feedback(
        self, conversation: ConversationRef, reply_id: str, sender_id: str, value: int
    ) -> None:
        check_feedback_value(value)
        feedback_key = self._keys.feedback(conversation, reply_id)
        index_key = self._keys.sender_feedback(conversation, sender_id)
        async with self._translated("save feedback"), self._client.pipeline() as pipe:
            pipe.hset(feedback_key, sender_id, str(value))
            # NX: the expiry is set by the reply's first rating only, so the sender index
            # (renewed by every rating below) always outlives the hashes it points to.
            pipe.expire(feedback_key, self._feedback_ttl, nx=True)
            pipe.sadd(index_key, reply_id)
            pipe.expire(index_key, self._feedback_ttl)
            await pipe.execute()

    async def feedback(self, conversation: ConversationRef, reply_id: str) -> dict[str, int]:
        async with self._translated("read feedback"):
            ratings = await self._client.hgetall(self._keys.feedback(conversation, reply_id))
        try:
            return {_text(sender): int(value) for sender, value in ratings.items()}
        except ValueError as exc:
            raise StoreError(f"a stored rating is not a number: {ratings!r}") from exc
