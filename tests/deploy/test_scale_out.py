"""The scale-out overlay: an ingress and autoscaled dialog workers per bot, scaled on stream backlog."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from core.metrics import Metrics
from tests.deploy.kustomize import Manifest, render
from tests.deploy.project_facts import DEPLOY

K8S = DEPLOY / "k8s"
COMPONENT = K8S / "components" / "scale-out"
PLATFORMS = ("telegram", "slack", "discord")
# Every platform's workers send replies through its Web API (`Adapter.start_sending`).
SPLIT = PLATFORMS
BACKLOG = "bloombridge_queue_backlog"


@pytest.fixture(scope="module")
def manifests() -> list[Manifest]:
    return render(K8S / "overlays" / "scale-out")


def named(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name)
    return found[0]


def container(deployment: Manifest) -> dict[str, Any]:
    first: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return first


@pytest.mark.parametrize("platform", SPLIT)
def test_each_bot_is_one_ingress_and_workers_that_an_autoscaler_owns(
    manifests: list[Manifest], platform: str
) -> None:
    ingress = named(manifests, "Deployment", f"bot-{platform}")
    assert container(ingress)["args"] == ["run", platform, "--role", "ingress"]
    assert ingress["spec"]["replicas"] == 1  # one platform connection per token
    worker = named(manifests, "Deployment", f"worker-{platform}")
    assert container(worker)["args"] == ["run", platform, "--role", "worker"]
    assert "replicas" not in worker["spec"], "the HPA owns the worker count"
    # Workers answer through the platform's Web API: same token, same store, same settings.
    assert container(worker)["envFrom"] == container(ingress)["envFrom"]
    assert container(worker)["env"] == container(ingress)["env"]
    hpa = named(manifests, "HorizontalPodAutoscaler", f"worker-{platform}")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": f"worker-{platform}",
    }
    assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    [metric] = hpa["spec"]["metrics"]
    assert metric["type"] == "External"
    assert metric["external"]["metric"] == {
        "name": BACKLOG,
        "selector": {"matchLabels": {"platform": platform}},
    }
    assert metric["external"]["target"]["type"] == "AverageValue"
    assert float(metric["external"]["target"]["averageValue"]) > 0


def test_each_split_platform_has_streams_of_its_own(manifests: list[Manifest]) -> None:
    for platform in SPLIT:
        for name in (f"bot-{platform}", f"worker-{platform}"):
            env = container(named(manifests, "Deployment", name))["env"]
            [namespace] = [v["value"] for v in env if v["name"] == "BLOOMBRIDGE_REDIS_NAMESPACE"]
            assert namespace == f"bloombridge-{platform}"


def test_the_workers_gauge_has_the_label_the_autoscalers_select(
    manifests: list[Manifest],
) -> None:
    gauge = Metrics().queue_backlog
    for hpa in manifests:
        if hpa["kind"] == "HorizontalPodAutoscaler":
            selector = hpa["spec"]["metrics"][0]["external"]["metric"]["selector"]
            gauge.labels(**selector["matchLabels"]).set(1)  # wrong label names raise


def test_workers_reach_tgi_and_redis_and_share_the_bots_disruption_budget(
    manifests: list[Manifest],
) -> None:
    workers = [m for m in manifests if m["metadata"]["name"].startswith("worker-")]
    pods = [
        m["spec"]["template"]["metadata"]["labels"] for m in workers if m["kind"] == "Deployment"
    ]
    assert len(pods) == len(SPLIT)
    allowed = named(manifests, "NetworkPolicy", "tgi-from-bots")["spec"]["ingress"][0]["from"]
    budget = named(manifests, "PodDisruptionBudget", "bots")["spec"]["selector"]["matchLabels"]
    for labels in pods:
        assert allowed[0]["podSelector"]["matchLabels"].items() <= labels.items()
        assert budget.items() <= labels.items()
        assert labels["bloombridge.io/role"] == "worker"


def test_the_other_overlays_keep_one_process_per_bot() -> None:
    for overlay in ("small", "bloomchat-176b"):
        manifests = render(K8S / "overlays" / overlay)
        assert not [m for m in manifests if m["kind"] == "HorizontalPodAutoscaler"]
        for platform in PLATFORMS:
            assert container(named(manifests, "Deployment", f"bot-{platform}"))["args"] == [
                "run",
                platform,
            ]


def test_the_adapter_rule_serves_the_metric_the_autoscalers_read(
    manifests: list[Manifest],
) -> None:
    values = yaml.safe_load((COMPONENT / "prometheus-adapter-values.yaml").read_text())
    [rule] = values["rules"]["external"]
    assert rule["seriesQuery"].startswith(BACKLOG + "{")
    assert rule["name"]["as"] == BACKLOG
    assert rule["resources"]["overrides"]["namespace"] == {"resource": "namespace"}
    assert "<<.Series>>{<<.LabelMatchers>>}" in rule["metricsQuery"]
    read = {
        metric["external"]["metric"]["name"]
        for hpa in manifests
        if hpa["kind"] == "HorizontalPodAutoscaler"
        for metric in hpa["spec"]["metrics"]
    }
    assert read == {rule["name"]["as"]}
