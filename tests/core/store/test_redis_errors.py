"""RedisStore failures: unreachable server, bad URL, unreadable data — always our own errors."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from core.errors import ConfigurationError, StoreError
from core.messages import ConversationRef, Turn
from core.store.keys import StoreKeys
from core.store.redis import RedisStore, redacted_url

CHAT = ConversationRef("console", None, "local")
TURN = Turn("hello", "hi", "me")
PASSWORD = "s3cret-pa55"


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


Operation = Callable[[RedisStore], Awaitable[object]]

OPERATIONS: dict[str, Operation] = {
    "ping": lambda store: store.ping(),
    "history": lambda store: store.history(CHAT),
    "append_turn": lambda store: store.append_turn(CHAT, TURN, max_turns=5, ttl_seconds=60),
    "clear_history": lambda store: store.clear_history(CHAT),
    "language": lambda store: store.language(CHAT),
    "conversation_state": lambda store: store.conversation_state(CHAT),
    "set_language": lambda store: store.set_language(CHAT, "fr"),
    "forget_sender": lambda store: store.forget_sender(CHAT, "me"),
    "claim": lambda store: store.claim("event", 60),
    "save_feedback": lambda store: store.save_feedback(CHAT, "r1", "me", 1),
    "feedback": lambda store: store.feedback(CHAT, "r1"),
}


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
async def test_unreachable_redis_raises_store_error(closed_port: int, operation: Operation) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{closed_port}/0"
    # Constructing does no I/O, so it succeeds even though nothing listens.
    async with RedisStore(url, timeout_seconds=1.0, retries=1) as store:
        with pytest.raises(StoreError) as caught:
            await operation(store)
    message = str(caught.value)
    assert f"127.0.0.1:{closed_port}" in message
    assert PASSWORD not in message
    assert caught.value.__cause__ is not None


def test_unusable_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        RedisStore(f"http://user:{PASSWORD}@example.invalid:6379")
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize("namespace", ["", "a:b", "with space", "ünï"])
def test_namespace_must_be_a_plain_word(redis_url: str, namespace: str) -> None:
    with pytest.raises(ConfigurationError):
        RedisStore(redis_url, namespace=namespace)


def test_redacted_url_drops_credentials() -> None:
    assert redacted_url(f"redis://admin:{PASSWORD}@cache.internal:6380/2") == (
        "redis://cache.internal:6380/2"
    )
    assert redacted_url("rediss://cache.internal/0") == "rediss://cache.internal/0"
    assert redacted_url("redis://host:notaport") == "<unparsable URL>"


async def test_unreadable_stored_turn_is_a_store_error(
    redis_store: RedisStore, redis_client: aioredis.Redis, redis_namespace: str
) -> None:
    await redis_client.rpush(StoreKeys(redis_namespace).history(CHAT), "not json")
    with pytest.raises(StoreError, match="not valid JSON"):
        await redis_store.history(CHAT)


async def test_turn_with_fields_from_a_newer_version_still_loads(
    redis_store: RedisStore, redis_client: aioredis.Redis, redis_namespace: str
) -> None:
    newer = '{"user_text": "u", "reply_text": "r", "sender_id": "me", "mood": "happy"}'
    await redis_client.rpush(StoreKeys(redis_namespace).history(CHAT), newer)
    assert await redis_store.history(CHAT) == [Turn("u", "r", "me")]


async def test_wrong_type_under_a_key_is_a_store_error(
    redis_store: RedisStore, redis_client: aioredis.Redis, redis_namespace: str
) -> None:
    await redis_client.set(StoreKeys(redis_namespace).history(CHAT), "a string, not a list")
    with pytest.raises(StoreError, match="WRONGTYPE"):
        await redis_store.append_turn(CHAT, TURN, max_turns=5, ttl_seconds=60)
