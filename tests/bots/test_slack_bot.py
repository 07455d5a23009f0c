"""`bloombridge run slack`: settings and `--http PORT` to adapter, secrets, a reply end to end."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bots.cli import build_parser
from bots.run_command import apply_options, platform_bot, running_adapter
from bots.settings import Settings
from bots.slack_bot import BOT, build_adapter, http_config
from core.errors import ConfigurationError
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.tgi import FakeTGI, Script

BOT_TOKEN = "xoxb-1-bot-secret-value"
APP_TOKEN = "xapp-1-app-secret-value"


def settings(**values: object) -> Settings:
    return Settings(**values)  # type: ignore[arg-type]


def test_run_slack_takes_an_http_port() -> None:
    args = build_parser().parse_args(["run", "slack", "--http", "3000"])
    assert (args.command, args.platform) == ("run", "slack")
    assert apply_options(settings(), args).slack.http_port == 3000
    plain = build_parser().parse_args(["run", "slack"])
    assert apply_options(settings(slack_http_port=8080), plain).slack.http_port == 8080
    with pytest.raises(ConfigurationError, match="--http"):
        apply_options(settings(), build_parser().parse_args(["run", "slack", "--http", "70000"]))


def test_socket_mode_needs_both_tokens() -> None:
    with pytest.raises(ConfigurationError, match="BLOOMBRIDGE_SLACK_BOT_TOKEN"):
        build_adapter(settings(), object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="BLOOMBRIDGE_SLACK_BOT_TOKEN"):
        build_adapter(settings(slack_bot_token=SecretStr(APP_TOKEN)), object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="BLOOMBRIDGE_SLACK_APP_TOKEN") as missing:
        build_adapter(settings(slack_bot_token=SecretStr(BOT_TOKEN)), object())  # type: ignore[arg-type]
    assert BOT_TOKEN not in str(missing.value)
    adapter = build_adapter(
        settings(slack_bot_token=SecretStr(BOT_TOKEN), slack_app_token=SecretStr(APP_TOKEN)),
        object(),  # type: ignore[arg-type]
    )
    assert adapter.platform == "slack" and not adapter.connected


def test_a_queue_worker_needs_the_bot_token_only() -> None:
    with pytest.raises(ConfigurationError, match="BLOOMBRIDGE_SLACK_BOT_TOKEN"):
        BOT.sender(settings(slack_app_token=SecretStr(APP_TOKEN)), object())  # type: ignore[arg-type]
    adapter = BOT.sender(settings(slack_bot_token=SecretStr(BOT_TOKEN)), object())  # type: ignore[arg-type]
    assert adapter.platform == "slack" and not adapter.connected


def test_http_mode_needs_the_signing_secret() -> None:
    assert http_config(settings()) is None
    with pytest.raises(ConfigurationError, match="BLOOMBRIDGE_SLACK_SIGNING_SECRET"):
        http_config(settings(slack_http_port=3000))
    config = http_config(settings(slack_http_port=3000, slack_signing_secret=SecretStr("s3cr3t")))
    assert config is not None and (config.port, config.path) == (3000, "/slack/events")
    # No app token is needed over HTTP.
    build_adapter(
        settings(
            slack_bot_token=SecretStr(BOT_TOKEN),
            slack_http_port=3000,
            slack_signing_secret=SecretStr("s3cr3t"),
        ),
        object(),  # type: ignore[arg-type]
    )


def test_settings_read_slack_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOOMBRIDGE_SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("BLOOMBRIDGE_SLACK_API_URL", "https://slack-proxy.example.org/api")
    monkeypatch.setenv("BLOOMBRIDGE_SLACK_HTTP_PORT", "3000")
    loaded = Settings()
    assert loaded.slack.api_url == "https://slack-proxy.example.org/api/"
    assert loaded.slack.http_port == 3000
    assert BOT_TOKEN not in repr(loaded)
    secrets = [s.get_secret_value() for s in BOT.secrets(loaded) if s is not None]
    assert secrets == [BOT_TOKEN]
    assert platform_bot("slack") is BOT


async def test_the_bot_answers_a_dm_end_to_end(redis_url: str, redis_namespace: str) -> None:
    async with FakeTGI() as tgi, FakeSlackAPI() as api:
        tgi.enqueue(Script(reply="Bonjour ! Je suis BLOOMChat."))
        configured = settings(
            tgi_urls=[tgi.url],
            redis_url=SecretStr(redis_url),
            redis_namespace=redis_namespace,
            slack_bot_token=SecretStr(api.bot_token),
            slack_app_token=SecretStr(api.app_token),
            slack_api_url=api.base_url,
        )
        async with running_adapter(BOT, configured) as adapter:
            assert adapter.connected
            api.send(
                {
                    "type": "event_callback",
                    "team_id": api.team_id,
                    "event_id": "Ev0E2E",
                    "event": {
                        "type": "message",
                        "channel_type": "im",
                        "channel": "D0ZOE",
                        "user": "U0ZOEFR",
                        "text": "Salut !",
                        "ts": "1790002000.000100",
                    },
                    "authorizations": [{"user_id": api.bot_user_id, "is_bot": True}],
                }
            )
            await api.wait_until(lambda: any(m.action_values() for m in api.visible("D0ZOE")))
        assert [m.text for m in api.visible("D0ZOE")] == ["Bonjour ! Je suis BLOOMChat."]
