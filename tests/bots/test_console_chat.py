"""The console bot as a user runs it: settings → wiring → console adapter → fake TGI and Redis."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from adapters.console.adapter import PROMPT, ConsoleAdapter
from adapters.console.sink import BOT_LABEL
from bots.console_bot import chat
from bots.doctor import diagnose
from bots.settings import Settings
from bots.wiring import build_dialog
from core.notices import notice
from tests.bots.cli_process import cli_environment, run_cli
from tests.fakes.tgi import FakeTGI, Script, dead_url


@pytest.fixture
async def tgi() -> AsyncIterator[FakeTGI]:
    async with FakeTGI() as fake:
        yield fake


def settings_for(
    *urls: str, redis_url: str | None = None, namespace: str = "bloombridge"
) -> Settings:
    secret = SecretStr(redis_url) if redis_url is not None else None
    return Settings(tgi_urls=list(urls), redis_url=secret, redis_namespace=namespace)


async def run_chat(settings: Settings, text: str) -> str:
    output = io.StringIO()
    await chat(settings, input_stream=io.StringIO(text), output_stream=output)
    return output.getvalue()


async def test_piped_input_gets_one_reply_per_line_with_history_in_redis(
    tgi: FakeTGI, redis_url: str, redis_namespace: str
) -> None:
    tgi.enqueue(Script(reply="Hello! How can I help?"), Script(reply="Your name is Ada."))
    settings = settings_for(tgi.url, redis_url=redis_url, namespace=redis_namespace)
    output = await run_chat(settings, "Hi, I am Ada\n\nWhat is my name?\n")
    assert output == "Hello! How can I help?\nYour name is Ada.\n"
    second_prompt = tgi.generation_requests()[1].body["inputs"]
    assert "<human>: Hi, I am Ada\n<bot>: Hello! How can I help?</s>\n" in second_prompt


async def test_failover_to_the_healthy_replica_delivers_the_message_once(tgi: FakeTGI) -> None:
    tgi.enqueue(Script(reply="Answer from the healthy replica."))
    output = await run_chat(settings_for(dead_url(), tgi.url), "question\n")
    assert output == "Answer from the healthy replica.\n"
    assert len(tgi.generation_requests()) == 1


async def test_every_replica_down_gives_a_plain_notice(tgi: FakeTGI) -> None:
    output = await run_chat(settings_for(dead_url()), "question\n")
    assert output == notice("unavailable", "en") + "\n"


async def test_terminal_output_grows_in_place(tgi: FakeTGI) -> None:
    tgi.enqueue(Script(reply="One two three."))
    output = io.StringIO()
    async with build_dialog(settings_for(tgi.url)) as dialog:
        adapter = ConsoleAdapter(
            dialog, input_stream=io.StringIO("count\n"), output_stream=output, interactive=True
        )
        await adapter.run()
    assert output.getvalue() == f"{PROMPT}{BOT_LABEL}One two three.\n{PROMPT}"


async def test_doctor_reports_each_replica_and_redis(tgi: FakeTGI, redis_url: str) -> None:
    dead = dead_url()
    findings = await diagnose(settings_for(tgi.url, dead, redis_url=redis_url))
    by_subject = {f.subject: f for f in findings}
    assert by_subject[f"TGI replica {tgi.url}"].ok
    assert "max_input_tokens=1024" in by_subject[f"TGI replica {tgi.url}"].detail
    assert not by_subject[f"TGI replica {dead}"].ok
    assert by_subject["Redis"].ok


async def test_doctor_names_an_unreachable_redis_without_its_password(tgi: FakeTGI) -> None:
    port = dead_url().rsplit(":", 1)[1]
    findings = await diagnose(settings_for(tgi.url, redis_url=f"redis://:hunter2@127.0.0.1:{port}"))
    redis = next(f for f in findings if f.subject == "Redis")
    assert not redis.ok
    assert "hunter2" not in redis.detail and port in redis.detail


async def test_bloombridge_chat_command_scripts_through_stdin(tgi: FakeTGI) -> None:
    tgi.enqueue(Script(reply="Scripted answer."))
    result = await run_cli("chat", stdin="hello\n/reset\n", env=cli_environment(tgi_urls=tgi.url))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Scripted answer.\n{notice('reset_done', 'en')}\n"


async def test_invalid_settings_exit_with_one_clear_line() -> None:
    result = await run_cli("chat", env=cli_environment(tgi_urls="http://x", top_p="1.5"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "bloombridge: invalid settings: BLOOMBRIDGE_TOP_P: Input should be less than 1"
    ]
