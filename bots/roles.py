"""`bloombridge run <platform> --role`: everything in one process, ingress, or dialog worker.

- `all` (default): one process connects to the platform and answers (`run_command.serve`).
- `ingress`: connects to the platform, claims each event and hands its message on to the
  Redis Stream of its conversation's partition; answers nothing itself. When the message
  cannot be queued (Redis unreachable) the event is refused so the platform delivers it
  again (Telegram webhook: 503; Slack: not acknowledged), or, where the platform never
  delivers again (Discord's gateway), the sender is asked to send it again.
- `worker`: no platform connection for events; reads the streams in the consumer group,
  runs the dialog and sends replies through the platform's Web API (`start_sending`).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from prometheus_client import Gauge
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from adapters.streaming_adapter import StreamingAdapter
from bots.operations import operations
from bots.run_command import PlatformBot, serve
from bots.settings import Settings
from bots.wiring import build_dialog, build_store
from core.config import DialogConfig
from core.errors import ConfigurationError, StoreError
from core.messages import ConversationRef, IncomingMessage, ReplyStream
from core.metrics import Metrics
from core.queue.codec import QueuedMessage
from core.queue.leases import PartitionLeases
from core.queue.ledger import ReplyLedger
from core.queue.streams import MessageQueue
from core.queue.waiting import WaitingLine
from core.queue.worker import QueuedFeedback, QueueWorker, WorkerLimits
from core.store.base import Store
from core.store.keys import StoreKeys
from core.store.redis_pool import WaitingConnectionPool

logger = logging.getLogger(__name__)


class Role(enum.StrEnum):
    """What one `bloombridge run` process does."""

    ALL = "all"
    INGRESS = "ingress"
    WORKER = "worker"


def queue_client(settings: Settings, *, block_seconds: float) -> Redis:
    """A Redis client for the streams; its reads outlast the longest blocking read."""
    if settings.redis_url is None:
        raise ConfigurationError(
            "the ingress and worker roles need BLOOMBRIDGE_REDIS_URL: Redis joins them"
        )
    pool = WaitingConnectionPool.from_url(
        settings.redis_url.get_secret_value(),
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_pool_timeout_seconds,
        decode_responses=True,
        socket_timeout=block_seconds + 5.0,
        socket_connect_timeout=5.0,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), 2),
    )
    pool.purpose = "queue"
    return Redis.from_pool(pool)


def message_queue(settings: Settings, client: Redis) -> MessageQueue:
    return MessageQueue(
        client, StoreKeys(settings.redis_namespace), partitions=settings.queue_partitions
    )


class IngressHandler:
    """The `ChatHandler` of an ingress: event claims and feedback in the store, no dialog.

    An ingress hands every message on (`StreamingAdapter.hand_off`), so `handle` is never
    reached through the adapter; it refuses plainly if anything calls it.
    """

    def __init__(self, store: Store, config: DialogConfig) -> None:
        self._store = store
        self._dedup_seconds = config.dedup_ttl_seconds

    def handle(self, message: IncomingMessage) -> ReplyStream:
        raise ConfigurationError(
            "an ingress process hands messages on to workers; none is answered here"
        )

    async def claim_event(
        self, platform: str, event_id: str, *, hold_seconds: int | None = None
    ) -> bool:
        seconds = self._dedup_seconds if hold_seconds is None else hold_seconds
        return await self._store.claim(f"{platform}:{event_id}", seconds)

    async def is_claimed(self, platform: str, event_id: str) -> bool:
        return await self._store.is_claimed(f"{platform}:{event_id}")

    async def hold_event(
        self, platform: str, event_id: str, *, hold_seconds: int | None = None
    ) -> None:
        seconds = self._dedup_seconds if hold_seconds is None else hold_seconds
        await self._store.hold_claim(f"{platform}:{event_id}", seconds)

    async def record_feedback(
        self, conversation: ConversationRef, reply_id: str, sender_id: str, value: int
    ) -> None:
        await self._store.save_feedback(conversation, reply_id, sender_id, 1 if value > 0 else -1)


def queue_hand_off(
    queue: MessageQueue,
    retry_seconds: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Callable[[IncomingMessage], Awaitable[None]]:
    """Appends a message to its stream, retrying for `retry_seconds`; StoreError: refused."""

    async def hand_off(message: IncomingMessage) -> None:
        deadline = clock() + retry_seconds
        while True:
            try:
                await queue.append(message)
                return
            except StoreError:
                left = deadline - clock()
                if left <= 0:
                    raise
                await sleep(min(0.5, left))

    return hand_off


def ingress_retry_seconds(adapter: StreamingAdapter, settings: Settings) -> float:
    """How long a hand-off is retried: the setting, within half the platform's patience."""
    if adapter.answer_within is None:
        return settings.ingress_retry_seconds
    return min(settings.ingress_retry_seconds, adapter.answer_within / 2)


@asynccontextmanager
async def running_ingress(
    bot: PlatformBot, settings: Settings, *, metrics: Metrics | None = None
) -> AsyncIterator[StreamingAdapter]:
    """A started ingress adapter handing messages on to the queue; closed on exit."""
    metrics = metrics or Metrics()
    async with build_store(settings) as store, queue_client(settings, block_seconds=0) as client:
        await store.ping()
        queue = message_queue(settings, client)
        await queue.ensure_groups()
        adapter = bot.build_adapter(settings, IngressHandler(store, settings.dialog_config()))
        if not isinstance(adapter, StreamingAdapter):
            raise ConfigurationError(f"{bot.name} cannot run as an ingress")
        adapter.hand_off(queue_hand_off(queue, ingress_retry_seconds(adapter, settings)))
        ops = operations(settings, metrics=metrics, adapter=adapter, store=store, generator=None)
        async with ops, adapter:
            yield adapter


async def serve_ingress(bot: PlatformBot, settings: Settings) -> None:
    """Receive the platform's events and queue them until cancelled."""
    async with running_ingress(bot, settings) as adapter:
        await adapter.run()


def worker_id() -> str:
    """Unique per process; host and pid say which process holds a lease."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def worker_limits(settings: Settings) -> WorkerLimits:
    return WorkerLimits(
        lease_seconds=settings.queue_lease_seconds,
        max_in_flight=settings.worker_max_in_flight,
        retry_seconds=settings.queue_retry_seconds,
    )


async def _watch_backlog(queue: MessageQueue, backlog: Gauge, every: float) -> None:
    while True:
        with suppress(StoreError):
            backlog.set(await queue.backlog())
        await asyncio.sleep(every)


async def serve_worker(bot: PlatformBot, settings: Settings) -> None:
    """Answer queued messages until cancelled, sending replies through the platform's API."""
    metrics = Metrics()
    limits = worker_limits(settings)
    async with (
        build_dialog(settings, metrics=metrics, defer_when_busy=True) as dialog,
        queue_client(settings, block_seconds=limits.tick_seconds) as client,
    ):
        adapter = bot.sender(settings, dialog)
        if not isinstance(adapter, StreamingAdapter):
            raise ConfigurationError(f"{bot.name} cannot run as a queue worker")
        queue = message_queue(settings, client)
        keys = StoreKeys(settings.redis_namespace)
        leases = PartitionLeases(
            client,
            keys,
            worker_id=worker_id(),
            partitions=settings.queue_partitions,
            lease_seconds=limits.lease_seconds,
        )
        ledger = ReplyLedger(client, keys, ttl_seconds=dialog.config.dedup_ttl_seconds)

        async def answer(entry: QueuedMessage) -> None:
            await adapter.answer(entry.message)

        async def tell_queued(entry: QueuedMessage, position: int) -> None:
            await adapter.tell_queued(entry.message, position)

        line = WaitingLine(client, keys, ttl_seconds=dialog.config.dedup_ttl_seconds)
        worker = QueueWorker(
            queue,
            leases,
            ledger,
            answer,
            limits=limits,
            feedback=QueuedFeedback(line, tell_queued),
        )
        ops = operations(
            settings,
            metrics=metrics,
            adapter=adapter,
            store=dialog.store,
            generator=dialog.generator,
        )
        await adapter.start_sending()
        try:
            async with ops:
                logger.info("queue worker %s started", leases.worker_id)
                backlog = metrics.queue_backlog.labels(platform=bot.name)
                watcher = asyncio.create_task(_watch_backlog(queue, backlog, limits.tick_seconds))
                try:
                    await worker.run()
                finally:
                    watcher.cancel()
                    await asyncio.wait([watcher], timeout=limits.tick_seconds)
        finally:
            await adapter.stop()


async def serve_all(bot: PlatformBot, settings: Settings) -> None:
    """One process: the platform connection and the dialog together."""
    await serve(bot, settings)


ROLES: dict[Role, Callable[[PlatformBot, Settings], Awaitable[None]]] = {
    Role.ALL: serve_all,
    Role.INGRESS: serve_ingress,
    Role.WORKER: serve_worker,
}


async def serve_role(role: Role, bot: PlatformBot, settings: Settings) -> None:
    """Run `bot` in `role` until cancelled."""
    await ROLES[role](bot, settings)
