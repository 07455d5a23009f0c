"""Renders the kustomizations in deploy/k8s for the tests: the subset of kustomize they use.

Supported, and refused when anything else appears: `resources` (files and other
kustomizations), `components` (a `Component` adds its resources to, and applies its generators
and patches on, what the including kustomization has gathered so far), `namespace`, `labels`
(metadata only), `configMapGenerator` (literals, `behavior: merge`, with
`generatorOptions.disableNameSuffixHash`) and `patches` with inline RFC 6902 JSON patches
selected by kind and name. Where `kubectl` is installed the tests also
compare this rendering with `kubectl kustomize`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonpatch
import yaml

Manifest = dict[str, Any]

_KNOWN_FIELDS = {
    "apiVersion",
    "kind",
    "resources",
    "components",
    "namespace",
    "labels",
    "configMapGenerator",
    "generatorOptions",
    "patches",
}


def render(directory: Path, gathered: list[Manifest] | None = None) -> list[Manifest]:
    """The manifests `kustomize build directory` would print (in resource order).

    `gathered` is what a kustomization including `directory` as a component has so far.
    """
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(spec) - _KNOWN_FIELDS
    if unknown:
        raise ValueError(
            f"{directory}: kustomize fields the test renderer does not know: {unknown}"
        )
    if (spec.get("kind") == "Component") != (gathered is not None):
        raise ValueError(f"{directory}: a Component must be, and only be, used in `components`")
    manifests: list[Manifest] = gathered if gathered is not None else []
    for entry in spec.get("resources", []):
        path = directory / entry
        if path.is_dir():
            manifests.extend(render(path))
        else:
            manifests.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    for entry in spec.get("components", []):
        manifests = render(directory / entry, manifests)
    options = spec.get("generatorOptions", {})
    for generator in spec.get("configMapGenerator", []):
        _generate_config_map(manifests, generator, options)
    for patch in spec.get("patches", []):
        _apply_patch(manifests, patch)
    for manifest in manifests:
        _set_namespace_and_labels(manifest, spec)
    return manifests


def _generate_config_map(
    manifests: list[Manifest], generator: dict[str, Any], options: dict[str, Any]
) -> None:
    data = dict(literal.split("=", 1) for literal in generator.get("literals", []))
    name = generator["name"]
    existing = [m for m in manifests if m["kind"] == "ConfigMap" and m["metadata"]["name"] == name]
    if generator.get("behavior") == "merge":
        if not existing:
            raise ValueError(f"ConfigMap {name} to merge into does not exist")
        existing[0]["data"].update(data)
        return
    if existing:
        raise ValueError(f"ConfigMap {name} is generated twice")
    if not options.get("disableNameSuffixHash"):
        raise ValueError("the test renderer needs generatorOptions.disableNameSuffixHash")
    manifests.append(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}
    )


def _apply_patch(manifests: list[Manifest], patch: dict[str, Any]) -> None:
    target = patch["target"]
    operations = yaml.safe_load(patch["patch"])
    matched = False
    for index, manifest in enumerate(manifests):
        if manifest["kind"] == target["kind"] and manifest["metadata"]["name"] == target["name"]:
            manifests[index] = jsonpatch.apply_patch(manifest, operations)
            matched = True
    if not matched:
        raise ValueError(f"patch target {target} matches no resource")


def _set_namespace_and_labels(manifest: Manifest, spec: dict[str, Any]) -> None:
    metadata = manifest.setdefault("metadata", {})
    if "namespace" in spec and manifest["kind"] != "Namespace":
        metadata["namespace"] = spec["namespace"]
    for group in spec.get("labels", []):
        metadata.setdefault("labels", {}).update(group["pairs"])
