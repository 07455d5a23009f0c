"""Settings: environment variables, an optional TOML file, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.settings import load_settings
from bots.wiring import build_admission
from core.errors import ConfigurationError


def test_lists_are_comma_separated_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOOMBRIDGE_TGI_URLS", "http://tgi-1:8080/, http://tgi-2:8080")
    monkeypatch.setenv("BLOOMBRIDGE_ALLOWED_SENDERS", "telegram:12345, slack:U1,")
    settings = load_settings()
    assert settings.tgi_urls == ["http://tgi-1:8080", "http://tgi-2:8080"]
    assert settings.allowed_senders == ["telegram:12345", "slack:U1"]


def test_a_toml_file_is_read_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "bloombridge.toml"
    config.write_text('max_new_tokens = 300\nredis_namespace = "team-a"\n', encoding="utf-8")
    monkeypatch.setenv("BLOOMBRIDGE_MAX_NEW_TOKENS", "200")
    monkeypatch.delenv("BLOOMBRIDGE_CONFIG_FILE", raising=False)
    settings = load_settings(config)
    assert settings.max_new_tokens == 200
    assert settings.redis_namespace == "team-a"
    assert settings.dialog_config().generation.max_new_tokens == 200
    assert load_settings().redis_namespace == "bloombridge"  # the file was for that call only


def test_a_missing_config_file_is_named() -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_settings(Path("/nonexistent/bloombridge.toml"))


def test_a_malformed_rate_limit_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOOMBRIDGE_RATE_LIMIT_PER_USER", "often")
    with pytest.raises(ConfigurationError, match="'often'"):
        build_admission(load_settings())
