"""`bloombridge run telegram` as a process: Redis stops mid-reply, the reply is still delivered,
the bot keeps answering, and SIGTERM still stops it within seconds."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

from core.notices import notice
from tests.bots.cli_process import cli_environment, running_cli
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.tgi import FakeTGI, Script
from tests.redis_process import RedisProcess

TOKEN = "987654:AAH-outage-token"
# Starting the process loads the language models: slow on a loaded machine.
_START_LIMIT_SECONDS = 120.0
_REPLY_LIMIT_SECONDS = 30.0
# SIGTERM to exit: replies in progress get their drain time, then the process is gone.
STOP_LIMIT_SECONDS = 15.0


def private_message(chat_id: int, message_id: int, text: str) -> dict[str, Any]:
    return {
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Zoé"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Zoé", "language_code": "en"},
            "text": text,
        }
    }


async def test_redis_stopping_mid_reply_still_completes_it_and_the_bot_answers_and_stops() -> None:
    release = asyncio.Event()
    partial_reply = "Here is the start of a long answer. " + " ".join(f"w{n}" for n in range(40))
    async with (
        FakeTGI() as tgi,
        FakeTelegramAPI(token=TOKEN) as api,
        RedisProcess() as redis,
    ):
        tgi.enqueue(Script(reply=partial_reply, hang=release, hang_after=10, token_delay=0.001))
        env = cli_environment(
            tgi_urls=tgi.url,
            redis_url=redis.url,
            telegram_token=TOKEN,
            telegram_api_url=api.url,
        )
        async with running_cli("run", "telegram", env=env) as process:
            await api.wait_until(lambda: "" in api.commands, within=_START_LIMIT_SECONDS)
            api.feed(private_message(5150, 1, "Tell me a long story"))
            await api.wait_until(
                lambda: any(chat == 5150 and text for (chat, _), text in api.drafts.items()),
                within=_REPLY_LIMIT_SECONDS,
            )
            await redis.stop()  # the turn cannot be recorded now
            release.set()
            await api.wait_until(lambda: bool(api.visible(5150)), within=_REPLY_LIMIT_SECONDS)
            (final,) = api.visible(5150)
            assert final.text.startswith("Here is the start of a long answer.")
            # The reply is delivered whole; the user is told the exchange was not saved.
            assert final.text.startswith(partial_reply)
            assert final.text.endswith(notice("history_not_saved", "en"))

            # Later messages, in that chat and another, are still answered with Redis down.
            api.feed(private_message(5150, 2, "Are you there?"), private_message(6160, 1, "Hi"))
            await api.wait_until(
                lambda: len(api.visible(5150)) == 2 and len(api.visible(6160)) == 1,
                within=_REPLY_LIMIT_SECONDS,
            )

            stopping = time.monotonic()
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(STOP_LIMIT_SECONDS):
                returncode = await process.wait()
            assert returncode == 0
            assert time.monotonic() - stopping < STOP_LIMIT_SECONDS
