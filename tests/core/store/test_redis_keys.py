"""RedisStore seen from Redis itself: the raw keys it writes, deletes and expires."""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from core.messages import ConversationRef, Turn
from core.store.keys import StoreKeys
from core.store.redis import RedisStore
from tests.core.store.conftest import FEEDBACK_TTL_SECONDS

CHAT = ConversationRef("telegram", None, "-1001234", "17")


def turn(number: int, sender: str) -> Turn:
    return Turn(f"q{number}", f"a{number}", sender, "en", f"r{number}", float(number))


async def namespace_keys(client: aioredis.Redis, namespace: str) -> dict[str, str]:
    """Every key of the namespace with its Redis type."""
    return {
        key: str(await client.type(key)) async for key in client.scan_iter(match=f"{namespace}:*")
    }


async def test_every_record_has_its_documented_key_and_type(
    redis_store: RedisStore, redis_client: aioredis.Redis, redis_namespace: str
) -> None:
    keys = StoreKeys(redis_namespace)
    await redis_store.append_turn(CHAT, turn(1, "alice"), max_turns=5, ttl_seconds=60)
    await redis_store.set_language(CHAT, "id")
    await redis_store.claim("telegram:update:99", 60)
    await redis_store.save_feedback(CHAT, "r1", "alice", 1)

    assert await namespace_keys(redis_client, redis_namespace) == {
        f"{redis_namespace}:history:telegram:-:-1001234:17": "list",
        f"{redis_namespace}:lang:telegram:-:-1001234:17": "string",
        f"{redis_namespace}:claim:telegram:update:99": "string",
        f"{redis_namespace}:feedback:telegram:-:-1001234:17:r1": "hash",
        f"{redis_namespace}:feedback-by-sender:telegram:-:-1001234:17:alice": "set",
    }
    stored = await redis_client.lrange(keys.history(CHAT), 0, -1)
    assert [json.loads(item) for item in stored] == [
        {
            "user_text": "q1",
            "reply_text": "a1",
            "sender_id": "alice",
            "language": "en",
            "reply_id": "r1",
            "at": 1.0,
            "tokens": None,
        }
    ]
    assert await redis_client.hgetall(keys.feedback(CHAT, "r1")) == {"alice": "1"}
    assert await redis_client.smembers(keys.sender_feedback(CHAT, "alice")) == {"r1"}
    # The language preference is a setting, not a cache: it does not expire.
    assert await redis_client.ttl(keys.language(CHAT)) == -1


async def test_clear_history_deletes_the_history_key(
    redis_store: RedisStore, redis_client: aioredis.Redis, redis_namespace: str
) -> None:
    keys = StoreKeys(redis_namespace)
    await redis_store.append_turn(CHAT, turn(1, "alice"), max_turns=5, ttl_seconds=60)
    await redis_store.set_language(CHAT, "id")

    await redis_store.clear_history(CHAT)

    assert await redis_client.exists(keys.history(CHAT)) == 0
    assert set(await namespace_keys(redis_client, redis_namespace)) == {keys.language(CHAT)}


async def test_forget_deletes_every_key_about_the_sender(
    redis_store: RedisStore, redis_client: aioredis.Redis, redis_namespace: str
) -> None:
    keys = StoreKeys(redis_namespace)
    await redis_store.append_turn(CHAT, turn(1, "alice"), max_turns=5, ttl_seconds=60)
    await redis_store.append_turn(CHAT, turn(2, "alice"), max_turns=5, ttl_seconds=60)
    await redis_store.save_feedback(CHAT, "r1", "alice", 1)
    await redis_store.save_feedback(CHAT, "r2", "alice", -1)
    await redis_store.save_feedback(CHAT, "r2", "bob", 1)

    await redis_store.forget_sender(CHAT, "alice")

    assert await namespace_keys(redis_client, redis_namespace) == {
        keys.feedback(CHAT, "r2"): "hash",
        keys.sender_feedback(CHAT, "bob"): "set",
    }
    assert await redis_client.hgetall(keys.feedback(CHAT, "r2")) == {"bob": "1"}
    raw = json.dumps(await redis_client.hgetall(keys.feedback(CHAT, "r2")))
    assert "alice" not in raw


async def test_forget_rewrites_history_without_the_sender(
    redis_store: RedisStore, redis_client: aioredis.Redis, redis_namespace: str
) -> None:
    keys = StoreKeys(redis_namespace)
    for number, sender in enumerate(["alice", "bob", "alice"]):
        await redis_store.append_turn(CHAT, turn(number, sender), max_turns=5, ttl_seconds=60)

    await redis_store.forget_sender(CHAT, "alice")

    stored = await redis_client.lrange(keys.history(CHAT), 0, -1)
    assert [json.loads(item)["sender_id"] for item in stored] == ["bob"]
    assert all("alice" not in item for item in stored)


async def test_sender_index_outlives_the_feedback_it_points_to(
    redis_store: RedisStore, redis_client: aioredis.Redis, redis_namespace: str
) -> None:
    keys = StoreKeys(redis_namespace)
    await redis_store.save_feedback(CHAT, "r1", "alice", 1)
    # Shorten the hash's life as if it had been rated long ago; later ratings must not renew it.
    await redis_client.expire(keys.feedback(CHAT, "r1"), 100)

    await redis_store.save_feedback(CHAT, "r1", "bob", -1)
    await redis_store.save_feedback(CHAT, "r1", "alice", -1)

    assert 0 < await redis_client.ttl(keys.feedback(CHAT, "r1")) <= 100
    for sender in ("alice", "bob"):
        index_ttl = await redis_client.ttl(keys.sender_feedback(CHAT, sender))
        assert FEEDBACK_TTL_SECONDS - 2 < index_ttl <= FEEDBACK_TTL_SECONDS


async def test_namespaces_are_isolated(
    redis_url: str, redis_namespace: str, redis_client: aioredis.Redis
) -> None:
    async with (
        RedisStore(redis_url, namespace=f"{redis_namespace}-a") as first,
        RedisStore(redis_url, namespace=f"{redis_namespace}-b") as second,
    ):
        try:
            await first.append_turn(CHAT, turn(1, "alice"), max_turns=5, ttl_seconds=60)
            await first.set_language(CHAT, "ar")
            assert await first.claim("event", 60) is True
            assert await second.history(CHAT) == []
            assert await second.language(CHAT) is None
            assert await second.claim("event", 60) is True
        finally:
            for suffix in ("-a", "-b"):
                async for key in redis_client.scan_iter(match=f"{redis_namespace}{suffix}:*"):
                    await redis_client.delete(key)
