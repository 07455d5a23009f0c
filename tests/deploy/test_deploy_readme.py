"""deploy/README.md followed as a new operator would: what it names exists."""

from __future__ import annotations

import re

import yaml

from bots.run_command import PLATFORM_MODULES
from tests.deploy.kustomize import render
from tests.deploy.project_facts import (
    DEPLOY,
    ROOT,
    command_exists,
    unknown_settings,
)

README = (DEPLOY / "README.md").read_text()
# The scale-out part, checked on its own: the ingress and worker commands are there.
_SCALE_OUT_START = README.index("**Scaling out the bots.**")
_SCALE_OUT_END = README.index("\n## ", _SCALE_OUT_START)
SCALE_OUT = README[_SCALE_OUT_START:_SCALE_OUT_END]
ONE_PROCESS = README[:_SCALE_OUT_START] + README[_SCALE_OUT_END:]

# `bloombridge run PLATFORM` with its options, e.g. `bloombridge run <platform> --role worker`.
RUN = re.compile(r"\bbloombridge run (<platform>|\w+)((?:\s+--[\w-]+\s+\w+)*)")


def assert_run_commands_exist(text: str) -> int:
    """Checks every `bloombridge run` command in `text`; returns how many there are."""
    runs = RUN.findall(text)
    for platform, options in runs:
        platforms = list(PLATFORM_MODULES) if platform == "<platform>" else [platform]
        for name in platforms:
            argv = ["run", name, *options.split()]
            assert command_exists(argv), argv
    return len(runs)


def assert_variables_are_settings(text: str) -> None:
    names = re.findall(r"\bBLOOMBRIDGE_[A-Z_]+\b", text)
    assert names
    assert unknown_settings(names) == []


def test_every_bloombridge_command_it_shows_exists() -> None:
    commands = re.findall(r"\bbloombridge (doctor|chat)\b", README)
    assert "doctor" in commands
    for command in commands:
        assert command_exists(command.split()), command
    assert_run_commands_exist(ONE_PROCESS)
    images = re.findall(r"`docker run IMAGE ([a-z ]+)`", README)
    assert images and all(command_exists(command.split()) for command in images)


def test_every_variable_it_names_is_a_setting() -> None:
    assert_variables_are_settings(ONE_PROCESS)


def test_the_scale_out_commands_and_variables_exist() -> None:
    assert assert_run_commands_exist(SCALE_OUT) == 2  # the ingress and the worker
    assert_variables_are_settings(SCALE_OUT)


def test_every_path_it_names_exists() -> None:
    paths = set(re.findall(r"`((?:deploy/|Dockerfile)[\w./-]*)`", README))
    paths |= set(re.findall(r"(?:-[fk]|kustomize) (deploy/[\w./-]+)", README))
    assert len(paths) >= 5
    for path in paths:
        if path == "deploy/bots.env":
            continue  # the operator's own copy, never committed
        assert (ROOT / path).exists(), path


def test_compose_profiles_it_uses_exist() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    profiles = {p for service in compose["services"].values() for p in service.get("profiles", [])}
    used = set(re.findall(r"--profile (\w+)", README))
    assert used and used <= profiles


def test_secrets_and_objects_it_creates_are_the_ones_the_manifests_use() -> None:
    manifests = render(DEPLOY / "k8s" / "overlays" / "bloomchat-176b")
    referenced = set()
    for manifest in manifests:
        text = yaml.safe_dump(manifest)
        referenced |= set(re.findall(r"secretRef:\n\s+name: ([\w-]+)", text))
        referenced |= set(re.findall(r"secretKeyRef:\n\s+key: \w+\n\s+name: ([\w-]+)", text))
    created = set(re.findall(r"create secret generic ([\w-]+)", README))
    assert referenced and referenced == created
    keys = re.findall(r"--from-literal=(\w+)=", README)
    assert unknown_settings(keys) == []
    names = {(m["kind"], m["metadata"]["name"]) for m in manifests}
    assert ("StatefulSet", "tgi") in names
    assert ("ConfigMap", "bloombridge-config") in names


def test_the_image_it_replaces_is_the_one_every_bot_runs() -> None:
    replaced = set(re.findall(r"sed 's\|image: ([\w:./-]+)\|", README))
    assert len(replaced) == 1
    for overlay in (DEPLOY / "k8s" / "overlays").iterdir():
        bots = [
            container["image"]
            for manifest in render(overlay)
            if manifest["kind"] == "Deployment"
            for container in manifest["spec"]["template"]["spec"]["containers"]
        ]
        assert bots and set(bots) == replaced, overlay.name
