"""The compose stack and the bots' image: schema- and lint-clean, consistent with the CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.deploy.project_facts import (
    DEPLOY,
    ROOT,
    command_exists,
    secrets_in,
    unknown_settings,
)

COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE_SCHEMA = ROOT / "tests" / "data" / "deploy" / "compose-spec.json"
BOTS = ("telegram", "slack", "discord")


@pytest.fixture(scope="module")
def compose() -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_compose_file_follows_the_compose_specification(compose: dict[str, object]) -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(compose)


def test_compose_serves_bloomchat_sharded_with_explicit_token_limits(
    compose: dict[str, object],
) -> None:
    services = compose["services"]
    assert isinstance(services, dict)
    tgi = services["tgi"]
    args = dict(zip(tgi["command"][::2], tgi["command"][1::2], strict=True))
    assert args["--model-id"] == "sambanovasystems/BLOOMChat-176B-v1"
    assert 112 % int(args["--num-shard"]) == 0
    assert args["--max-total-tokens"] == "2048"
    assert {"--max-input-tokens", "--max-batch-prefill-tokens"} <= set(args)
    assert tgi["deploy"]["resources"]["reservations"]["devices"][0]["count"] == int(
        args["--num-shard"]
    )
    assert "shm_size" in tgi and "/health" in " ".join(tgi["healthcheck"]["test"])
    assert any(volume.endswith(":/data") for volume in tgi["volumes"])
    assert services["tgi-small"]["profiles"] == ["small"]
    assert services["tgi-cpu"]["image"].endswith("-intel-cpu")
    redis_command = services["redis"]["command"]
    assert redis_command[redis_command.index("--appendonly") + 1] == "yes"


def test_compose_bots_run_real_commands_with_real_settings(compose: dict[str, object]) -> None:
    services = compose["services"]
    assert isinstance(services, dict)
    for bot in BOTS:
        service = services[bot]
        assert command_exists(service["command"]), service["command"]
        assert unknown_settings(service["environment"]) == []
        assert [entry["path"] for entry in service["env_file"]] == ["bots.env"]


def test_the_env_file_is_not_committed_and_its_example_names_real_settings() -> None:
    assert not (DEPLOY / "bots.env").exists()
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(DEPLOY / "bots.env")], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0, "deploy/bots.env must be git-ignored"
    example = (DEPLOY / "bots.env.example").read_text()
    assignments = re.findall(r"^([A-Z_]+)=(.*)$", example, flags=re.MULTILINE)
    assert assignments
    assert unknown_settings(name for name, _ in assignments) == []
    secret_names = [name for name, _ in assignments if "TOKEN" in name or "SECRET" in name]
    assert all(value == "" for name, value in assignments if name in secret_names)


def test_no_secret_value_is_committed_in_deploy_files() -> None:
    files = [DOCKERFILE, ROOT / ".dockerignore", *sorted(DEPLOY.rglob("*"))]
    for path in files:
        if path.is_file():
            assert secrets_in(path.read_text()) == [], path


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(__file__).parents[2] / ".venv/bin/hadolint")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_is_multi_stage_non_root_and_runs_the_cli() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) == 2 and stages[0].endswith(" AS build")
    assert stages[1].startswith("FROM python:3.11-slim")
    final = lines[lines.index(stages[1]) :]
    assert any(re.fullmatch(r"USER \d+", line) and line != "USER 0" for line in final)
    # No compilers or package installs in the final stage: it only copies the built venv.
    assert not any(re.search(r"apt-get|gcc|pip install", line) for line in final)
    entrypoint = json.loads(next(line for line in final if line.startswith("ENTRYPOINT"))[11:])
    # The last CMD is the image's command (an earlier one belongs to HEALTHCHECK).
    command = json.loads([line for line in final if line.startswith("CMD")][-1][4:])
    assert entrypoint == ["bloombridge"]
    assert command_exists(command)
    env_names = re.findall(r"\b(BLOOMBRIDGE_[A-Z_]+)=", DOCKERFILE.read_text())
    assert env_names and unknown_settings(env_names) == []


def test_dockerignore_keeps_the_build_context_to_the_packages() -> None:
    patterns = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and line[0] != "#"
    ]
    assert patterns[0] == "*"
    assert {"!core/", "!adapters/", "!bots/", "!pyproject.toml"} <= set(patterns)
