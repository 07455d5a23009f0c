"""Chat isolation: how long a quiet chat waits for its first answer while another chat floods.

Runs the real TelegramAdapter (python-telegram-bot, long polling) against the fake Bot API
with the real DialogManager over a scripted in-process model. The baseline, measured in the
same run, is the quiet chat's first answer with no other traffic; the flood is N messages
sent at once to one group chat just before the quiet chat writes. Also prints how many of
the flood's messages reached the model and how many were refused with the wait notice.
Usage: python -m bench.chat_isolation [--flood N]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from typing import Any

from adapters.telegram.adapter import TelegramAdapter
from bench.telegram_stream import ScriptedModel
from core.dialog import DialogManager
from core.store.memory import MemoryStore
from tests.fakes.telegram_api import FakeTelegramAPI

QUIET_CHAT, BUSY_CHAT = 4242, -1007777
REPLY = [f" word{n}" for n in range(40)]
TOKENS_PER_SECOND = 200.0


@dataclass(frozen=True)
class Outcome:
    quiet_first_answer_seconds: float
    flood_requests: int
    refused: int


def update(chat_id: int, message_id: int, text: str) -> dict[str, Any]:
    private = chat_id > 0
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private" if private else "supergroup", "title": "b"},
        "from": {"id": 5000 + message_id, "is_bot": False, "first_name": "Bench"},
        "text": text if private else f"@bloom_test_bot {text}",
    }
    if not private:
        message["entities"] = [{"type": "mention", "offset": 0, "length": 15}]
    return {"message": message}


async def scenario(flood: int) -> Outcome:
    model = ScriptedModel(REPLY, TOKENS_PER_SECOND)
    dialog = DialogManager(generator=model, store=MemoryStore())
    async with FakeTelegramAPI() as api:
        adapter = TelegramAdapter(dialog, token=api.token, api_url=api.url, poll_timeout=1.0)
        async with adapter:
            api.feed(*(update(BUSY_CHAT, n, f"flood {n}") for n in range(1, flood + 1)))
            if flood:
                await api.wait_until(lambda: bool(api.calls_to("sendChatAction")), within=60)
            started = time.monotonic()
            api.feed(update(QUIET_CHAT, 1, "Hello?"))
            await api.wait_until(lambda: any(m.reply_markup for m in api.visible(QUIET_CHAT)), 120)
            waited = time.monotonic() - started
            refused = adapter.intake.refused
        flood_requests = sum(1 for m in api.visible(BUSY_CHAT) if m.text.startswith("word0"))
        return Outcome(waited, flood_requests, refused)


async def main(flood: int) -> None:
    print(
        f"Chat isolation: a quiet private chat's first answer while a group chat sends {flood} "
        f"messages at once (real python-telegram-bot, fake Bot API, {len(REPLY)}-token replies "
        f"at {TOKENS_PER_SECOND:g} tokens/s)"
    )
    baseline = await scenario(0)
    flooded = await scenario(flood)
    ratio = flooded.quiet_first_answer_seconds / baseline.quiet_first_answer_seconds
    rows = [
        ("quiet chat alone (baseline)", baseline.quiet_first_answer_seconds, 1.0),
        (f"{flood} messages flooding a group", flooded.quiet_first_answer_seconds, ratio),
    ]
    print(f"{'scenario':34}{'quiet chat first answer':>26}{'vs baseline':>14}")
    for name, seconds, versus in rows:
        print(f"{name:34}{seconds:24.2f} s{versus:13.2f}x")
    print(
        f"flooding chat: {flooded.flood_requests} answered before shutdown, "
        f"{flooded.refused} refused at once (one wait notice)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flood", type=int, default=80, help="messages the busy chat sends")
    asyncio.run(main(parser.parse_args().flood))
