"""The Kubernetes manifests: schema-valid, complete, and consistent with the bots' CLI."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.kustomize import Manifest, render
from tests.deploy.project_facts import (
    DEPLOY,
    command_exists,
    secrets_in,
    unknown_settings,
)

K8S = DEPLOY / "k8s"
OVERLAYS = sorted(path.name for path in (K8S / "overlays").iterdir())
KUBERNETES_VERSION = "1.33.0"
BLOOMCHAT_ATTENTION_HEADS = 112
BLOOMCHAT_WEIGHTS_GB = 352


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[Manifest]]:
    name: str = request.param
    return name, render(K8S / "overlays" / name)


def by_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def pod_specs(manifests: list[Manifest]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (m["metadata"]["name"], m["spec"]["template"]["spec"])
        for m in manifests
        if m["kind"] in {"Deployment", "StatefulSet", "Job"}
    ]


def test_the_overlays_exist() -> None:
    assert OVERLAYS == ["bloomchat-176b", "scale-out", "small"]


def test_every_manifest_is_valid_against_the_kubernetes_schemas(
    overlay: tuple[str, list[Manifest]],
) -> None:
    _, manifests = overlay
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_the_test_renderer_agrees_with_kubectl_kustomize(
    overlay: tuple[str, list[Manifest]],
) -> None:
    name, manifests = overlay
    printed = subprocess.run(
        ["kubectl", "kustomize", str(K8S / "overlays" / name)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    official = [doc for doc in yaml.safe_load_all(printed) if doc]

    def key(m: Manifest) -> tuple[str, str]:
        return m["kind"], m["metadata"]["name"]

    assert sorted(official, key=key) == sorted(manifests, key=key)


def test_every_container_has_requests_and_limits(overlay: tuple[str, list[Manifest]]) -> None:
    _, manifests = overlay
    for owner, spec in pod_specs(manifests):
        for container in spec.get("initContainers", []) + spec["containers"]:
            resources = container.get("resources", {})
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(part, {})), (owner, container["name"])


def test_secrets_are_referenced_never_inlined(overlay: tuple[str, list[Manifest]]) -> None:
    _, manifests = overlay
    assert not by_kind(manifests, "Secret")
    assert not secrets_in(yaml.safe_dump_all(manifests))
    for owner, spec in pod_specs(manifests):
        for container in spec["containers"]:
            for variable in container.get("env", []):
                if re.search(r"TOKEN|SECRET|PASSWORD|REDIS_URL", variable["name"]):
                    assert "valueFrom" in variable, (owner, variable["name"])


def test_tgi_is_a_gpu_workload_with_shared_memory_and_probes(
    overlay: tuple[str, list[Manifest]],
) -> None:
    _, manifests = overlay
    tgi = by_kind(manifests, "StatefulSet")["tgi"]["spec"]["template"]["spec"]
    container = tgi["containers"][0]
    volumes = {volume["name"]: volume for volume in tgi["volumes"]}
    shm_mount = next(m for m in container["volumeMounts"] if m["mountPath"] == "/dev/shm")
    assert volumes[shm_mount["name"]]["emptyDir"]["medium"] == "Memory"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    args = dict(arg.removeprefix("--").split("=", 1) for arg in container["args"])
    shards = int(args["num-shard"])
    assert int(container["resources"]["limits"]["nvidia.com/gpu"]) == shards
    assert int(args["max-total-tokens"]) == 2048  # BLOOM's context
    assert int(args["max-input-tokens"]) < int(args["max-total-tokens"])
    cache = by_kind(manifests, "PersistentVolumeClaim")["model-cache"]
    assert cache["spec"]["accessModes"] == ["ReadWriteMany"]


def test_bloomchat_overlay_shards_evenly_and_has_room_to_convert() -> None:
    manifests = render(K8S / "overlays" / "bloomchat-176b")
    tgi = by_kind(manifests, "StatefulSet")["tgi"]["spec"]["template"]["spec"]
    container = tgi["containers"][0]
    env = {v["name"]: v.get("value") for v in container["env"]}
    assert env["MODEL_ID"] == "sambanovasystems/BLOOMChat-176B-v1"
    args = dict(arg.removeprefix("--").split("=", 1) for arg in container["args"])
    assert BLOOMCHAT_ATTENTION_HEADS % int(args["num-shard"]) == 0
    job = by_kind(manifests, "Job")["model-download"]["spec"]["template"]["spec"]
    assert job["containers"][0]["env"][0]["value"] == env["MODEL_ID"]
    assert tgi["initContainers"][0]["env"][0]["value"] == env["MODEL_ID"]
    storage = by_kind(manifests, "PersistentVolumeClaim")["model-cache"]["spec"]["resources"]
    assert int(storage["requests"]["storage"].removesuffix("Gi")) >= 2 * BLOOMCHAT_WEIGHTS_GB
    # A startup probe that waits long enough for 352 GB to load (at least 30 minutes).
    probe = container["startupProbe"]
    assert probe["periodSeconds"] * probe["failureThreshold"] >= 1800


def test_bots_address_every_tgi_replica_individually(overlay: tuple[str, list[Manifest]]) -> None:
    _, manifests = overlay
    statefulset = by_kind(manifests, "StatefulSet")["tgi"]
    service = by_kind(manifests, "Service")["tgi"]
    assert service["spec"]["clusterIP"] == "None"
    port = statefulset["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    config = by_kind(manifests, "ConfigMap")["bloombridge-config"]["data"]
    urls = config["BLOOMBRIDGE_TGI_URLS"].split(",")
    expected = [f"http://tgi-{i}.tgi:{port}" for i in range(statefulset["spec"]["replicas"])]
    assert urls == expected
    # The service names the port the bots call, so what it declares is what is served.
    assert [p["port"] for p in service["spec"]["ports"]] == [port]


def test_only_the_bots_reach_tgi_and_redis(overlay: tuple[str, list[Manifest]]) -> None:
    _, manifests = overlay
    policies = by_kind(manifests, "NetworkPolicy")
    protected = {}
    for policy in policies.values():
        target = policy["spec"]["podSelector"]["matchLabels"].get("app.kubernetes.io/name")
        if target in {"tgi", "redis"}:
            sources = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
            protected[target] = sources
    bots = {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "bot"}}}
    assert protected == {"tgi": [bots], "redis": [bots]}


def test_disruption_budgets_cover_tgi_redis_and_the_bots(
    overlay: tuple[str, list[Manifest]],
) -> None:
    _, manifests = overlay
    budgets = by_kind(manifests, "PodDisruptionBudget")
    assert set(budgets) == {"tgi", "redis", "bots"}
    pod_labels = [
        m["spec"]["template"]["metadata"]["labels"]
        for m in manifests
        if m["kind"] in {"Deployment", "StatefulSet"}
    ]
    for budget in budgets.values():
        wanted = budget["spec"]["selector"]["matchLabels"]
        assert any(wanted.items() <= labels.items() for labels in pod_labels), budget


def test_redis_persists_to_a_volume(overlay: tuple[str, list[Manifest]]) -> None:
    _, manifests = overlay
    redis = by_kind(manifests, "StatefulSet")["redis"]
    args = redis["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    assert redis["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"


@pytest.mark.parametrize("name", OVERLAYS)
def test_bots_run_real_commands_and_set_real_settings(name: str) -> None:
    manifests = render(K8S / "overlays" / name)
    deployments = by_kind(manifests, "Deployment")
    assert deployments
    names: list[str] = list(by_kind(manifests, "ConfigMap")["bloombridge-config"]["data"])
    for name, deployment in deployments.items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert command_exists(container["args"]), (name, container["args"])
        names.extend(variable["name"] for variable in container.get("env", []))
        probes = {container["readinessProbe"]["httpGet"]["path"]}
        probes.add(container["livenessProbe"]["httpGet"]["path"])
        assert probes == {"/readyz", "/healthz"}
    assert unknown_settings(names) == []
