"""Bad settings, run through the real command line: one line on standard error, exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bots.cli_process import cli_environment, run_cli

BAD_ENVIRONMENTS = {
    "log level": {"log_level": "LOUD"},
    "unclosed IPv6 URL": {"tgi_urls": "http://[::1"},
    "port out of range": {"tgi_urls": "http://127.0.0.1:99999"},
    "probe interval zero": {"tgi_urls": "http://127.0.0.1:1", "tgi_probe_interval_seconds": "0"},
    "negative timeout": {"tgi_connect_timeout_seconds": "-5"},
    "no failures allowed": {"tgi_failures_before_out": "0"},
    "no history": {"history_turns": "0"},
    "named database": {"redis_url": "redis://127.0.0.1:6379/abc"},
}


def assert_one_line_refusal(stderr: str, mentions: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("bloombridge: ")
    assert mentions in lines[0]
    assert "Traceback" not in stderr


@pytest.mark.parametrize("environment", BAD_ENVIRONMENTS.values(), ids=BAD_ENVIRONMENTS.keys())
async def test_a_bad_setting_is_one_line_and_status_2(environment: dict[str, str]) -> None:
    result = await run_cli("chat", env=cli_environment(**environment))
    assert result.returncode == 2
    variable = f"BLOOMBRIDGE_{next(iter(environment)).upper()}"
    if len(environment) > 1:
        variable = f"BLOOMBRIDGE_{list(environment)[-1].upper()}"
    assert_one_line_refusal(result.stderr, variable)


async def test_a_malformed_toml_file_is_one_line_and_status_2(tmp_path: Path) -> None:
    config = tmp_path / "bloombridge.toml"
    config.write_text("tgi_urls = [\n", encoding="utf-8")
    result = await run_cli("--config", str(config), "doctor", env=cli_environment())
    assert result.returncode == 2
    assert_one_line_refusal(result.stderr, "not valid TOML")


async def test_a_missing_config_file_in_the_environment_is_one_line_and_status_2(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nowhere.toml"
    result = await run_cli("doctor", env=cli_environment(config_file=str(missing)))
    assert result.returncode == 2
    assert_one_line_refusal(result.stderr, str(missing))
