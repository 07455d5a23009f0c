"""Defaults have one source: settings left unset build exactly the core's own defaults."""

from __future__ import annotations

from pydantic import SecretStr

from bots.settings import Settings
from bots.wiring import build_pool, build_store
from core.config import DialogConfig
from core.generation.pool import PoolPolicy
from core.store.redis import RedisStore
from core.store.redis_pool import DEFAULT_MAX_CONNECTIONS, DEFAULT_POOL_TIMEOUT_SECONDS


def test_unset_settings_give_the_core_defaults() -> None:
    settings = Settings(tgi_urls=["http://tgi.internal:8080"])
    assert settings.dialog_config() == DialogConfig()
    assert build_pool(settings).policy == PoolPolicy()


def test_the_probe_interval_is_one_value_everywhere() -> None:
    assert Settings().tgi_probe_interval_seconds == PoolPolicy().probe_interval


def test_the_redis_pool_is_sized_from_the_settings() -> None:
    default = build_store(Settings(redis_url=SecretStr("redis://127.0.0.1:6379/0")))
    sized = build_store(
        Settings(
            redis_url=SecretStr("redis://127.0.0.1:6379/0"),
            redis_max_connections=7,
            redis_pool_timeout_seconds=2.5,
        )
    )
    assert isinstance(default, RedisStore) and isinstance(sized, RedisStore)
    assert default.connection_pool.max_connections == DEFAULT_MAX_CONNECTIONS
    assert default.connection_pool.timeout == DEFAULT_POOL_TIMEOUT_SECONDS
    assert (sized.connection_pool.max_connections, sized.connection_pool.timeout) == (7, 2.5)
