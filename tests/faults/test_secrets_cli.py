"""Secrets and message text kept out of what the real command prints, whatever printed it."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from tests.bots.cli_process import cli_environment, run_cli, running_cli
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.tgi import FakeTGI, Script

SERVER_TOKEN = "7312345678:AAHk2Jx9-Zq_serverSide0123456789abcdEF"
REJECTED_TOKEN = "7312345678:AAHk2Jx9-Zq_rejectedPart0123456789abEF"
_START_LIMIT_SECONDS = 120.0
_STOP_LIMIT_SECONDS = 30.0


async def test_a_rejected_telegram_token_is_never_printed() -> None:
    async with FakeTGI() as tgi, FakeTelegramAPI(token=SERVER_TOKEN) as api:
        env = cli_environment(
            tgi_urls=tgi.url, telegram_token=REJECTED_TOKEN, telegram_api_url=api.url
        )
        result = await run_cli("run", "telegram", env=env)
    assert result.returncode == 2
    # INFO log lines (the refused getMe) come first; the error line is the last line.
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("bloombridge: ") and "rejected" in error
    assert "rejectedPart" not in result.stderr


async def test_credentials_in_model_server_urls_stay_out_of_info_logs() -> None:
    async with FakeTGI() as tgi:
        tgi.enqueue(Script(reply="Hello."))
        with_credentials = tgi.url.replace("http://", "http://operator:tgi-pa55word@")
        env = cli_environment(tgi_urls=with_credentials, log_level="INFO")
        result = await run_cli("chat", stdin="hi\n", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello.\n"
    # The replica is named in the INFO log, without its credentials.
    assert f"replica {tgi.url} takes" in result.stderr
    assert "tgi-pa55word" not in result.stderr and "operator" not in result.stderr


@pytest.mark.parametrize("opted_in", [False, True], ids=["default", "log_message_text"])
async def test_message_text_reaches_debug_logs_only_when_the_operator_opts_in(
    opted_in: bool,
) -> None:
    async with FakeTGI() as tgi, FakeTelegramAPI(token=SERVER_TOKEN) as api:
        tgi.enqueue(Script(reply="Noted."))
        env = cli_environment(
            tgi_urls=tgi.url,
            telegram_token=SERVER_TOKEN,
            telegram_api_url=api.url,
            log_level="DEBUG",
            log_message_text="true" if opted_in else "false",
        )
        async with running_cli(
            "run", "telegram", env=env, stderr=asyncio.subprocess.PIPE
        ) as process:
            assert process.stderr is not None
            log = asyncio.ensure_future(process.stderr.read())
            await api.wait_until(lambda: "" in api.commands, within=_START_LIMIT_SECONDS)
            api.feed(
                {
                    "message": {
                        "message_id": 1,
                        "date": int(time.time()),
                        "chat": {"id": 77, "type": "private", "first_name": "Quintessa"},
                        "from": {"id": 77, "is_bot": False, "first_name": "Quintessa"},
                        "text": "my zebra-private-words",
                    }
                }
            )
            await api.wait_until(lambda: bool(api.visible(77)), within=_START_LIMIT_SECONDS)
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(_STOP_LIMIT_SECONDS):
                await process.wait()
            output = (await log).decode()

    assert "DEBUG" in output
    assert ("zebra-private-words" in output) is opted_in
    assert ("Quintessa" in output) is opted_in
    assert "serverSide" not in output
