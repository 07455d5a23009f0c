"""Builds the object graph from settings: model backend, store, language policy, guards, dialog."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from bots.language_setup import (
    build_language_guard,
    build_language_policy,
    load_language_models,
)
from bots.safety_setup import build_repetition_guard, build_safety_guard
from bots.settings import Settings
from bots.warm_up import warm_up
from core.admission import Admission, AdmissionPolicy, rate_limit_storage
from core.dialog import DialogManager
from core.generation.base import TextGenerator
from core.generation.local import LocalGenerator
from core.generation.local_loading import ProgressCallback
from core.generation.observer import ReplicaObserver
from core.generation.pool import PoolPolicy, ReplicaPool
from core.generation.tgi import TgiGenerator
from core.guards.base import Guard
from core.metrics import Metrics, ReplicaMetrics
from core.store.base import Store
from core.store.memory import MemoryStore
from core.store.redis import RedisStore


def build_store(settings: Settings) -> Store:
    """Redis when a URL is configured, else the in-process store."""
    if settings.redis_url is None:
        return MemoryStore(namespace=settings.redis_namespace)
    return RedisStore(
        settings.redis_url.get_secret_value(),
        namespace=settings.redis_namespace,
        max_connections=settings.redis_max_connections,
        pool_timeout_seconds=settings.redis_pool_timeout_seconds,
    )


def build_pool(settings: Settings, observer: ReplicaObserver | None = None) -> ReplicaPool:
    """The TGI replicas named by BLOOMBRIDGE_TGI_URLS as one pool; `observer` hears each one."""
    factory = functools.partial(
        TgiGenerator,
        connect_timeout=settings.tgi_connect_timeout_seconds,
        first_token_timeout=settings.tgi_first_token_timeout_seconds,
        token_timeout=settings.tgi_token_timeout_seconds,
    )
    policy = PoolPolicy(
        max_failures=settings.tgi_failures_before_out,
        probe_interval=settings.tgi_probe_interval_seconds,
        queue_limit=settings.tgi_queue_limit,
        queue_timeout=settings.tgi_queue_timeout_seconds,
    )
    return ReplicaPool.from_urls(
        settings.tgi_urls, replica_factory=factory, policy=policy, observer=observer
    )


async def open_generator(
    settings: Settings,
    stack: AsyncExitStack,
    *,
    on_progress: ProgressCallback | None = None,
    replica_metrics: ReplicaMetrics | None = None,
) -> TextGenerator:
    """The model backend, opened on `stack` so it is closed with everything else.

    The TGI pool when replicas are configured (`replica_metrics` records each replica's
    streams, errors, state and load), else the in-process model (`on_progress` hears of its
    download and load; a model that cannot be loaded raises ModelLoadError).
    """
    if settings.tgi_urls:
        pool = await stack.enter_async_context(build_pool(settings, replica_metrics))
        if replica_metrics is not None:
            replica_metrics.watch(pool.statuses, lambda: pool.waiting)
        return pool
    local = LocalGenerator(settings.local_model, on_progress=on_progress)
    return await stack.enter_async_context(local)


def build_guards(settings: Settings, stack: AsyncExitStack | None = None) -> list[Guard]:
    """The reply guards, in the order they judge a reply; `stack` closes their connections."""
    guards: list[Guard] = []
    safety = build_safety_guard(settings)
    if safety is not None:
        guards.append(safety)
        if stack is not None:
            stack.push_async_callback(safety.policy.aclose)
    language = build_language_guard(settings)
    if language is not None:
        guards.append(language)
    repetition = build_repetition_guard(settings)
    if repetition is not None:
        guards.append(repetition)
    return guards


def admission_policy(settings: Settings) -> AdmissionPolicy:
    """The allowlists and rate limits the settings describe (limits are parsed by Admission)."""
    return AdmissionPolicy(
        allowed_senders=frozenset(settings.allowed_senders),
        allowed_conversations=frozenset(settings.allowed_conversations),
        per_user=settings.rate_limit_per_user or None,
        per_conversation=settings.rate_limit_per_conversation or None,
    )


def build_admission(settings: Settings) -> Admission:
    """Allowlists and rate limits; limits are counted in Redis when the bot has one."""
    policy = admission_policy(settings)
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
    storage = rate_limit_storage(
        redis_url,
        settings.redis_namespace,
        max_connections=settings.redis_max_connections,
        pool_timeout_seconds=settings.redis_pool_timeout_seconds,
    )
    return Admission(policy, storage)


@asynccontextmanager
async def build_dialog(
    settings: Settings,
    *,
    metrics: Metrics | None = None,
    on_progress: ProgressCallback | None = None,
    defer_when_busy: bool = False,
) -> AsyncIterator[DialogManager]:
    """A ready dialog manager; its generator and store are closed on exit.

    `defer_when_busy` (queue workers): a message meeting only busy replicas raises
    ReplyDeferred instead of being answered with the "overloaded" notice.
    """
    metrics = metrics or Metrics()
    async with AsyncExitStack() as stack:
        # The store is checked first: a wrong Redis URL or password ends the start at once,
        # before a model is loaded, with one line saying what is wrong.
        store = await stack.enter_async_context(build_store(settings))
        await store.ping()
        generator = await open_generator(
            settings, stack, on_progress=on_progress, replica_metrics=metrics.replicas
        )
        await load_language_models(settings)
        dialog = DialogManager(
            generator=generator,
            store=store,
            config=dataclasses.replace(settings.dialog_config(), defer_when_busy=defer_when_busy),
            language_policy=build_language_policy(settings),
            guards=build_guards(settings, stack),
            admission=build_admission(settings),
            metrics=metrics,
        )
        await warm_up(dialog)
        yield dialog
