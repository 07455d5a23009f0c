"""Prometheus metrics of the dialog pipeline, kept in a registry each `Metrics` owns."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.generation.health import ReplicaState

# Seconds; a 176B model queues requests when busy, so the buckets reach its 60 s first-token limit.
FIRST_TOKEN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
# A 512-token reply at about 45 ms a token takes some 23 s.
STREAM_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)


class ReplicaView(Protocol):
    """What the status gauges read of one replica (a `core.generation.pool.ReplicaStatus`)."""

    @property
    def url(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def in_flight(self) -> int: ...


class _ReplicaStatusCollector(Collector):
    """Each replica's state and requests in flight, read from the pool at every scrape."""

    def __init__(self, statuses: Callable[[], Iterable[ReplicaView]], waiting: Callable[[], int]):
        self._statuses = statuses
        self._waiting = waiting

    def collect(self) -> Iterator[Metric]:
        in_flight = GaugeMetricFamily(
            "bloombridge_tgi_replica_in_flight",
            "Requests this process has in flight at one TGI replica.",
            labels=["replica"],
        )
        state = GaugeMetricFamily(
            "bloombridge_tgi_replica_state",
            "1 for the state a TGI replica is in (as this process sees it), 0 for the others.",
            labels=["replica", "state"],
        )
        for status in self._statuses():
            in_flight.add_metric([status.url], status.in_flight)
            for name in ReplicaState:
                state.add_metric([status.url, name.value], float(status.state == name))
        yield in_flight
        yield state
        yield GaugeMetricFamily(
            "bloombridge_tgi_waiting",
            "Requests waiting in line because every available TGI replica is full.",
            value=self._waiting(),
        )


class ReplicaMetrics:
    """A `core.generation.observer.ReplicaObserver` recording each TGI replica's latency and errors.

    `watch` adds gauges of each replica's state and load, read from the pool when scraped.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry
        self._status: _ReplicaStatusCollector | None = None
        self.errors = Counter(
            "bloombridge_tgi_errors",
            "Failed generation requests to one TGI replica, by replica URL and error kind.",
            ["replica", "error"],
            registry=registry,
        )
        self.first_token_seconds = Histogram(
            "bloombridge_tgi_first_token_seconds",
            "Time from sending a request to a TGI replica to its first token.",
            ["replica"],
            buckets=FIRST_TOKEN_BUCKETS,
            registry=registry,
        )
        self.stream_seconds = Histogram(
            "bloombridge_tgi_stream_seconds",
            "Time from sending a request to a TGI replica to the end of its stream; "
            "`end` is finished (the model stopped) or stopped (the reader left early).",
            ["replica", "end"],
            buckets=STREAM_BUCKETS,
            registry=registry,
        )

    def first_token(self, replica: str, seconds: float) -> None:
        self.first_token_seconds.labels(replica=replica).observe(seconds)

    def stream_ended(self, replica: str, seconds: float, *, finished: bool) -> None:
        end = "finished" if finished else "stopped"
        self.stream_seconds.labels(replica=replica, end=end).observe(seconds)

    def failed(self, replica: str, kind: str) -> None:
        self.errors.labels(replica=replica, error=kind).inc()

    def watch(
        self, statuses: Callable[[], Iterable[ReplicaView]], waiting: Callable[[], int]
    ) -> None:
        """Serve the state and load of the replicas `statuses` reports (a newer pool replaces
        an older one)."""
        if self._status is not None:
            self._registry.unregister(self._status)
        self._status = _ReplicaStatusCollector(statuses, waiting)
        self._registry.register(self._status)


class Metrics:
    """Counters and histograms one dialog manager records; pass a shared registry to export them."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.messages_received = Counter(
            "bloombridge_messages_received",
            "Messages that reached the dialog manager, by platform.",
            ["platform"],
            registry=self.registry,
        )
        self.generated_tokens = Counter(
            "bloombridge_generated_tokens",
            "Tokens the model produced for replies.",
            registry=self.registry,
        )
        self.platform_rate_limit_waits = Counter(
            "bloombridge_platform_rate_limit_waits",
            "Times a platform told the bot to wait (429, flood wait), by platform.",
            ["platform"],
            registry=self.registry,
        )
        self.replies = Counter(
            "bloombridge_replies",
            "Replies finished, by platform, finish reason and language.",
            ["platform", "finish_reason", "language"],
            registry=self.registry,
        )
        self.guard_interventions = Counter(
            "bloombridge_guard_interventions",
            "Times a guard cut, resumed or replaced a reply, by guard, reason and reply language.",
            ["guard", "action", "reason", "language"],
            registry=self.registry,
        )
        self.admission_refusals = Counter(
            "bloombridge_admission_refusals",
            "Messages not sent to the model: sender not allowed, or over a rate limit.",
            ["platform", "reason"],
            registry=self.registry,
        )
        self.generation_errors = Counter(
            "bloombridge_generation_errors",
            "Generation failures seen by the dialog manager, by error type.",
            ["error"],
            registry=self.registry,
        )
        self.store_failures = Counter(
            "bloombridge_store_failures",
            "Store calls that failed and were answered without the store, by action.",
            ["action"],
            registry=self.registry,
        )
        self.replicas = ReplicaMetrics(self.registry)
        self.first_visible_seconds = Histogram(
            "bloombridge_first_visible_seconds",
            "Time from a message's arrival to the first text a user may see.",
            registry=self.registry,
        )
        self.queue_backlog = Gauge(
            "bloombridge_queue_backlog",
            "Queued messages not yet answered, all partitions: pending plus not yet read; "
            "by the platform of the worker reporting it (its autoscaler selects on it).",
            ["platform"],
            registry=self.registry,
        )

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        """Current value of a sample (0 when never recorded), for tests and the doctor command."""
        found = self.registry.get_sample_value(name, labels or {})
        return 0.0 if found is None else found
