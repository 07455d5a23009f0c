"""`bloombridge run telegram`: settings to adapter, secrets kept out of logs, a reply end to end."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from bots.cli import build_parser
from bots.run_command import PLATFORM_MODULES, platform_bot
from bots.settings import Settings, load_settings
from bots.telegram_bot import BOT, build_adapter, telegram_bot, webhook_config
from core.errors import ConfigurationError
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.tgi import FakeTGI, Script

TOKEN = "987654:AAH-secret-token-value"


def settings(**values: object) -> Settings:
    return Settings(**values)  # type: ignore[arg-type]


def test_run_telegram_is_a_subcommand() -> None:
    args = build_parser().parse_args(["run", "telegram"])
    assert (args.command, args.platform) == ("run", "telegram")


def test_a_token_is_required() -> None:
    with pytest.raises(ConfigurationError, match="BLOOMBRIDGE_TELEGRAM_TOKEN"):
        build_adapter(settings(), handler=object())  # type: ignore[arg-type]


def test_webhook_mode_needs_a_valid_secret() -> None:
    assert webhook_config(settings()) is None
    with pytest.raises(ConfigurationError, match="WEBHOOK_SECRET"):
        webhook_config(settings(telegram_webhook_url="https://bot.example.org/tg"))
    with pytest.raises(ConfigurationError, match="WEBHOOK_SECRET"):
        webhook_config(
            settings(
                telegram_webhook_url="https://bot.example.org/tg",
                telegram_webhook_secret=SecretStr("has spaces!"),
            )
        )
    config = webhook_config(
        settings(
            telegram_webhook_url="https://bot.example.org/tg",
            telegram_webhook_secret=SecretStr("ok_secret-1"),
            telegram_webhook_port=9000,
            telegram_webhook_path="/hooks/tg/",
        )
    )
    assert config is not None
    assert (config.port, config.path, config.secret_token) == (9000, "hooks/tg", "ok_secret-1")
    assert "ok_secret-1" not in repr(config)


async def test_the_bot_answers_a_telegram_message_end_to_end(
    redis_url: str, redis_namespace: str
) -> None:
    async with FakeTGI() as tgi, FakeTelegramAPI(token=TOKEN) as api:
        tgi.enqueue(Script(reply="Bonjour ! Je suis BLOOMChat."))
        configured = settings(
            tgi_urls=[tgi.url],
            redis_url=SecretStr(redis_url),
            redis_namespace=redis_namespace,
            telegram_token=SecretStr(TOKEN),
            telegram_api_url=api.url,
        )
        async with telegram_bot(configured):
            api.feed(
                {
                    "message": {
                        "message_id": 1,
                        "date": int(time.time()),
                        "chat": {"id": 5150, "type": "private", "first_name": "Zoé"},
                        "from": {"id": 5150, "is_bot": False, "first_name": "Zoé"},
                        "text": "Salut !",
                    }
                }
            )
            await api.wait_until(lambda: any(m.reply_markup for m in api.visible(5150)))
        assert [m.text for m in api.visible(5150)] == ["Bonjour ! Je suis BLOOMChat."]
        assert {command["command"] for command in api.commands[""]} >= {"start", "lang"}


def test_every_registered_platform_is_a_run_choice_built_from_its_settings() -> None:
    for name in PLATFORM_MODULES:
        bot = platform_bot(name)
        assert bot.name == name
        args = build_parser().parse_args(["run", name])
        assert args.platform == name
    adapter = platform_bot("telegram").build_adapter(
        settings(telegram_token=SecretStr(TOKEN)),
        object(),  # type: ignore[arg-type]
    )
    assert adapter.platform == "telegram" and not adapter.connected
    assert TOKEN in [
        secret.get_secret_value()
        for secret in BOT.secrets(settings(telegram_token=SecretStr(TOKEN)))
        if secret is not None
    ]


def test_telegram_settings_are_one_group_under_their_usual_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "bloombridge.toml"
    config.write_text(
        'telegram_api_url = "http://bot-api.internal"\ntelegram_webhook_port = 9001\n'
    )
    monkeypatch.setenv("BLOOMBRIDGE_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("BLOOMBRIDGE_TELEGRAM_WEBHOOK_PORT", "9000")
    monkeypatch.setenv("BLOOMBRIDGE_TGI_URLS", "http://tgi-1:8080")
    loaded = load_settings(config)
    assert loaded.telegram.token is not None and loaded.telegram.token.get_secret_value() == TOKEN
    assert loaded.telegram.api_url == "http://bot-api.internal"  # from the file
    assert loaded.telegram.webhook_port == 9000  # the environment wins
    assert loaded.tgi_urls == ["http://tgi-1:8080"]
    monkeypatch.setenv("BLOOMBRIDGE_TELEGRAM_WEBHOOK_PORT", "99999")
    with pytest.raises(ConfigurationError, match="BLOOMBRIDGE_TELEGRAM_WEBHOOK_PORT"):
        load_settings(config)
