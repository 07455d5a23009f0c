"""Prometheus metrics of the dialog pipeline, kept in a registry each `Metrics` owns."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


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
        self.first_visible_seconds = Histogram(
            "bloombridge_first_visible_seconds",
            "Time from a message's arrival to the first text a user may see.",
            registry=self.registry,
        )

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        """Current value of a sample (0 when never recorded), for tests and the doctor command."""
        found = self.registry.get_sample_value(name, labels or {})
        return 0.0 if found is None else found
