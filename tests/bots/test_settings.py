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


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("LOG_LEVEL", "LOUD", "BLOOMBRIDGE_LOG_LEVEL"),
        ("TGI_URLS", "http://[::1", "BLOOMBRIDGE_TGI_URLS"),
        ("TGI_URLS", "http://127.0.0.1:99999", "BLOOMBRIDGE_TGI_URLS"),
        ("TGI_URLS", "tgi-1:8080", "BLOOMBRIDGE_TGI_URLS"),
        ("SAFETY_GUARD_URL", "http://[::1", "BLOOMBRIDGE_SAFETY_GUARD_URL"),
        ("TGI_PROBE_INTERVAL_SECONDS", "0", "BLOOMBRIDGE_TGI_PROBE_INTERVAL_SECONDS"),
        ("TGI_CONNECT_TIMEOUT_SECONDS", "-1", "BLOOMBRIDGE_TGI_CONNECT_TIMEOUT_SECONDS"),
        ("TGI_FIRST_TOKEN_TIMEOUT_SECONDS", "0", "BLOOMBRIDGE_TGI_FIRST_TOKEN_TIMEOUT_SECONDS"),
        ("TGI_FAILURES_BEFORE_OUT", "0", "BLOOMBRIDGE_TGI_FAILURES_BEFORE_OUT"),
        ("HISTORY_TURNS", "0", "BLOOMBRIDGE_HISTORY_TURNS"),
        ("REDIS_URL", "redis://127.0.0.1:6379/abc", "BLOOMBRIDGE_REDIS_URL"),
        ("REDIS_URL", "redis://127.0.0.1:6379/0?db=x", "BLOOMBRIDGE_REDIS_URL"),
        ("REDIS_URL", "http://127.0.0.1:6379/0", "BLOOMBRIDGE_REDIS_URL"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(f"BLOOMBRIDGE_{variable}", value)
    with pytest.raises(ConfigurationError, match=named) as caught:
        load_settings()
    assert "\n" not in str(caught.value)


def test_the_log_level_is_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOOMBRIDGE_LOG_LEVEL", " debug")
    assert load_settings().log_level == "DEBUG"


def test_a_numeric_redis_database_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOOMBRIDGE_REDIS_URL", "redis://:pw@127.0.0.1:6379/3")
    settings = load_settings()
    assert settings.redis_url is not None


def test_url_errors_never_show_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOOMBRIDGE_REDIS_URL", "redis://user:hunter22@127.0.0.1/abc")
    monkeypatch.setenv("BLOOMBRIDGE_TGI_URLS", "http://user:hunter33@[::1")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "hunter" not in str(caught.value)


def test_a_config_file_named_in_the_environment_must_exist(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BLOOMBRIDGE_CONFIG_FILE", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigurationError, match=r"BLOOMBRIDGE_CONFIG_FILE.*does not exist"):
        load_settings()


def test_a_malformed_toml_file_is_one_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("max_new_tokens = = 3\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_settings(config)


def test_secret_values_cover_every_secret_setting_and_the_redis_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BLOOMBRIDGE_TELEGRAM_TOKEN", "123:token-value")
    monkeypatch.setenv("BLOOMBRIDGE_SAFETY_GUARD_API_TOKEN", "guard-token")
    monkeypatch.setenv("BLOOMBRIDGE_REDIS_URL", "redis://bot:p%40ss-word@127.0.0.1/0")
    values = load_settings().secret_values()
    assert {"123:token-value", "guard-token", "p@ss-word"} <= set(values)


def test_a_redis_url_stays_readable_only_its_password_is_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BLOOMBRIDGE_REDIS_URL", "redis://cache.internal:6379/0")
    assert load_settings().secret_values() == []
