"""`bloombridge run discord`: settings to adapter, the token kept out of logs and errors, end to end."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bots.cli import build_parser
from bots.discord_bot import BOT, build_adapter
from bots.run_command import running_adapter
from bots.settings import Settings, load_settings
from core.errors import ConfigurationError
from tests.fakes.discord_api import FakeDiscordAPI
from tests.fakes.discord_gateway import FakeDiscordGateway
from tests.fakes.discord_model import DiscordWorld
from tests.fakes.tgi import FakeTGI, Script


def settings(**values: object) -> Settings:
    return Settings(**values)  # type: ignore[arg-type]


def test_run_discord_is_a_subcommand() -> None:
    args = build_parser().parse_args(["run", "discord"])
    assert (args.command, args.platform) == ("run", "discord")


def test_a_token_is_required() -> None:
    with pytest.raises(ConfigurationError, match="BLOOMBRIDGE_DISCORD_TOKEN"):
        build_adapter(settings(), handler=object())  # type: ignore[arg-type]


def test_listening_to_whole_channels_needs_the_message_content_intent() -> None:
    token = SecretStr("a-token")
    with pytest.raises(ConfigurationError, match="MESSAGE_CONTENT"):
        build_adapter(
            settings(discord_token=token, discord_listen_channels="123,456"),
            handler=object(),  # type: ignore[arg-type]
        )
    with pytest.raises(ConfigurationError, match="channel ids"):
        build_adapter(
            settings(
                discord_token=token,
                discord_message_content=True,
                discord_listen_channels="#general",
            ),
            handler=object(),  # type: ignore[arg-type]
        )
    adapter = build_adapter(
        settings(discord_token=token, discord_message_content=True, discord_listen_channels="1, 2"),
        handler=object(),  # type: ignore[arg-type]
    )
    assert adapter.options.listen_channels == frozenset({"1", "2"})
    assert not adapter.connected


def test_settings_read_the_urls_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOOMBRIDGE_DISCORD_API_URL", "http://proxy.internal:8080/api/v10/")
    monkeypatch.setenv("BLOOMBRIDGE_DISCORD_GATEWAY_URL", "ws://gateway.internal:9000/")
    monkeypatch.setenv("BLOOMBRIDGE_DISCORD_TOKEN", "from-the-environment")
    monkeypatch.setenv("BLOOMBRIDGE_DISCORD_LISTEN_CHANNELS", "111, 222")
    loaded = Settings()
    assert loaded.discord.api_url == "http://proxy.internal:8080/api/v10"
    assert loaded.discord.gateway_url == "ws://gateway.internal:9000"
    assert loaded.discord.listen_channels == ["111", "222"]
    assert [s.get_secret_value() for s in BOT.secrets(loaded) if s] == ["from-the-environment"]
    assert "from-the-environment" not in repr(loaded)


def test_the_config_file_takes_a_discord_table(tmp_path: Path) -> None:
    config = tmp_path / "bloombridge.toml"
    config.write_text(
        '[discord]\ntoken = "from-the-file"\nlisten_channels = ["5"]\nmessage_content = true\n',
        encoding="utf-8",
    )
    loaded = load_settings(config)
    assert loaded.discord.token is not None
    assert loaded.discord.token.get_secret_value() == "from-the-file"
    adapter = build_adapter(loaded, handler=object())  # type: ignore[arg-type]
    assert adapter.options.listen_channels == frozenset({"5"})


async def test_an_intent_the_portal_has_not_enabled_is_explained(
    redis_url: str, redis_namespace: str
) -> None:
    world = DiscordWorld(message_content_enabled=False)
    async with FakeTGI() as tgi, FakeDiscordAPI(world) as api, FakeDiscordGateway(world) as gateway:
        configured = settings(
            tgi_urls=[tgi.url],
            redis_url=SecretStr(redis_url),
            redis_namespace=redis_namespace,
            discord_token=SecretStr(world.token),
            discord_api_url=api.api_url,
            discord_gateway_url=gateway.url,
            discord_message_content=True,
        )
        with pytest.raises(ConfigurationError, match="message content intent is not enabled"):
            async with running_adapter(BOT, configured):
                pass


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Everything discord.py and bloombridge log, at DEBUG, with no redaction installed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


async def test_a_refused_token_is_reported_without_the_token(debug_log: io.StringIO) -> None:
    world = DiscordWorld()
    async with FakeTGI() as tgi, FakeDiscordAPI(world) as api, FakeDiscordGateway(world) as gateway:
        wrong = "MTIz.wrong-token-that-must-not-leak"
        configured = settings(
            tgi_urls=[tgi.url],
            discord_token=SecretStr(wrong),
            discord_api_url=api.api_url,
            discord_gateway_url=gateway.url,
        )
        with pytest.raises(ConfigurationError) as refused:
            async with running_adapter(BOT, configured):
                pass
    assert "BLOOMBRIDGE_DISCORD_TOKEN" in str(refused.value)
    assert wrong not in str(refused.value)
    assert wrong not in debug_log.getvalue()


async def test_the_bot_answers_a_dm_end_to_end_and_never_logs_the_token(
    redis_url: str, redis_namespace: str, debug_log: io.StringIO
) -> None:
    world = DiscordWorld()
    async with (
        FakeTGI() as tgi,
        FakeDiscordAPI(world) as api,
        FakeDiscordGateway(world) as gateway,
    ):
        tgi.enqueue(Script(reply="Bonjour ! Je suis BLOOMChat."))
        configured = settings(
            tgi_urls=[tgi.url],
            redis_url=SecretStr(redis_url),
            redis_namespace=redis_namespace,
            discord_token=SecretStr(world.token),
            discord_api_url=api.api_url,
            discord_gateway_url=gateway.url,
        )
        async with running_adapter(BOT, configured) as adapter:
            assert adapter.connected
            await gateway.dispatch(
                "MESSAGE_CREATE", world.user_message(world.dm_channel_id, "Salut !")
            )
            await api.wait_until(
                lambda: any(m.components for m in api.visible(world.dm_channel_id))
            )
        assert [m.content for m in api.visible(world.dm_channel_id)] == [
            "Bonjour ! Je suis BLOOMChat."
        ]
        assert {command["name"] for command in api.commands} == {
            "ask",
            "help",
            "reset",
            "forget",
            "lang",
        }
    assert world.token not in debug_log.getvalue()
