"""The store through the real command line: checked at start-up, and lost mid-conversation."""

from __future__ import annotations

import asyncio

import pytest

from core.notices import notice
from tests.bots.cli_process import cli_environment, run_cli, running_cli
from tests.fakes.tgi import FakeTGI, Script, dead_url
from tests.redis_process import RedisProcess

PASSWORD = "right-horse-battery"
WRONG = "wrong-staple-guess"
_REPLY_LIMIT_SECONDS = 120.0  # the first reply waits for the language models to load

BOTS = {"console": ("chat",), "telegram": ("run", "telegram")}


def assert_one_line(stderr: str, *mentions: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("bloombridge: ")
    for mention in mentions:
        assert mention in lines[0]
    return lines[0]


@pytest.mark.parametrize("command", BOTS.values(), ids=BOTS.keys())
async def test_every_bot_stops_at_start_when_redis_is_unreachable(command: tuple[str, ...]) -> None:
    redis_url = dead_url().replace("http://", "redis://") + "/0"
    env = cli_environment(
        tgi_urls=dead_url(), redis_url=redis_url, telegram_token="123456:TEST-token"
    )
    result = await run_cli(*command, env=env)
    assert result.returncode == 2
    assert_one_line(result.stderr, "could not answer PING", redis_url)


async def test_a_bot_stops_at_start_when_redis_refuses_the_credentials() -> None:
    command = BOTS["console"]  # the check is the same for every bot (see the test above)
    async with RedisProcess(password=PASSWORD) as redis:
        for url in (redis.url_with(WRONG), redis.url_with(None)):
            env = cli_environment(
                tgi_urls=dead_url(), redis_url=url, telegram_token="123456:TEST-token"
            )
            result = await run_cli(*command, env=env)
            assert result.returncode == 2
            line = assert_one_line(result.stderr, "refused the credentials")
            assert WRONG not in line and PASSWORD not in line


async def test_the_console_keeps_answering_when_redis_stops_mid_conversation() -> None:
    async with FakeTGI() as tgi, RedisProcess() as redis:
        tgi.enqueue(Script(reply="Noted: 42."), Script(reply="I answer without memory."))
        env = cli_environment(tgi_urls=tgi.url, redis_url=redis.url)
        pipes = {
            "stdin": asyncio.subprocess.PIPE,
            "stdout": asyncio.subprocess.PIPE,
            "stderr": asyncio.subprocess.PIPE,
        }
        async with running_cli("chat", env=env, **pipes) as process:
            assert process.stdin is not None and process.stdout is not None
            assert process.stderr is not None
            async with asyncio.timeout(_REPLY_LIMIT_SECONDS):
                process.stdin.write(b"remember 42\n")
                await process.stdin.drain()
                first = await process.stdout.readline()
                await redis.stop()
                process.stdin.write(b"what was the number?\n")
                process.stdin.close()
                rest, stderr = await asyncio.gather(process.stdout.read(), process.stderr.read())
                returncode = await process.wait()

    assert first == b"Noted: 42.\n"
    # The generated reply is shown, with a word that it could not be remembered.
    assert rest.decode() == f"I answer without memory.\n\n{notice('history_not_saved', 'en')}\n"
    assert returncode == 0
    log = stderr.decode()
    assert log.count("the conversation store failed") == 1  # once per outage, not per call
    assert "Traceback" not in log
