"""Telegram streaming cost: Bot API calls per 500-token reply, and first-token-to-screen delay.

Runs the real TelegramAdapter (python-telegram-bot, long polling) against the fake Bot API
server, with the real DialogManager over a scripted in-process model that emits tokens at a
steady rate. The baseline, measured in the same run, edits the message after every token
(what a bot does without pacing). Usage: python -m bench.telegram_stream [--tokens-per-second N]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.delivery import ReplyMessages
from adapters.telegram.adapter import TELEGRAM_CAPABILITIES, TelegramAdapter
from adapters.telegram.render import TelegramRenderer
from adapters.telegram.sink import TelegramSink
from core.dialog import DialogManager
from core.generation.base import GenerationParams, ModelInfo, Token
from core.messages import ConversationRef, IncomingMessage, Sender
from core.store.memory import MemoryStore
from tests.fakes.telegram_api import FakeTelegramAPI

REPLY_TOKENS = 500
VISIBLE_CALLS = ("sendMessage", "sendMessageDraft", "editMessageText")
COUNTED_CALLS = (*VISIBLE_CALLS, "sendChatAction", "deleteMessage")
PRIVATE_CHAT, GROUP_CHAT = 4242, -1004242


class ScriptedModel:
    """A TextGenerator that writes a fixed reply at a steady rate and notes its first token."""

    def __init__(self, tokens: Sequence[str], tokens_per_second: float) -> None:
        self.tokens = list(tokens)
        self.delay = 1.0 / tokens_per_second
        self.first_token_at: float | None = None

    async def stream(self, prompt: str, params: GenerationParams) -> AsyncGenerator[Token, None]:
        for index, piece in enumerate(self.tokens):
            await asyncio.sleep(self.delay)
            if self.first_token_at is None:
                self.first_token_at = time.monotonic()
            last = index == len(self.tokens) - 1
            yield Token(piece, id=index + 3, finish_reason="eos_token" if last else None)

    async def info(self) -> ModelInfo:
        return ModelInfo("scripted", max_input_tokens=1024, max_total_tokens=4096)

    async def tokenize(self, text: str) -> Sequence[int] | None:
        return None

    async def aclose(self) -> None:
        return None


def reply_tokens() -> list[str]:
    """500 tokens of a Markdown answer: prose with bold words and paragraph breaks."""
    words = [
        "BLOOMChat",
        "streams",
        "each",
        "answer",
        "to",
        "Telegram",
        "without",
        "flood",
        "errors",
    ]
    tokens: list[str] = []
    for index in range(REPLY_TOKENS):
        if index % 60 == 0 and index:
            tokens.append("\n\n")
        elif index % 25 == 0:
            tokens.append(" **bold**")
        else:
            tokens.append(" " + words[index % len(words)])
    return tokens[:REPLY_TOKENS]


@dataclass(frozen=True)
class Outcome:
    calls: int
    first_visible_ms: float
    seconds: float


def update_for(chat_id: int) -> dict[str, object]:
    private = chat_id > 0
    chat = {"id": chat_id, "type": "private" if private else "supergroup", "title": "bench"}
    message: dict[str, object] = {
        "message_id": 1,
        "date": int(time.time()),
        "chat": chat,
        "from": {"id": 4242, "is_bot": False, "first_name": "Bench"},
        "text": "Explain streaming." if private else "@bloom_test_bot Explain streaming.",
    }
    if not private:
        message["entities"] = [{"type": "mention", "offset": 0, "length": 15}]
    return {"message": message}


def counted(api: FakeTelegramAPI, since: int) -> list[str]:
    return [call.method for call in api.calls[since:] if call.method in COUNTED_CALLS]


def first_visible(api: FakeTelegramAPI, since: int) -> float:
    return next(
        call.at
        for call in api.calls[since:]
        if call.method in VISIBLE_CALLS and call.failed is None and call.params.get("text")
    )


async def paced(chat_id: int, tokens_per_second: float, *, drafts: bool) -> Outcome:
    """One reply through the real adapter: paced, drafts or edits."""
    model = ScriptedModel(reply_tokens(), tokens_per_second)
    dialog = DialogManager(generator=model, store=MemoryStore())
    async with FakeTelegramAPI(drafts_supported=drafts) as api:
        adapter = TelegramAdapter(dialog, token=api.token, api_url=api.url, poll_timeout=1.0)
        async with adapter:
            since = len(api.calls)
            started = time.monotonic()
            api.feed(update_for(chat_id))
            await api.wait_until(
                lambda: any(m.reply_markup for m in api.visible(chat_id)), within=120
            )
            seconds = time.monotonic() - started
        assert model.first_token_at is not None
        delay = first_visible(api, since) - model.first_token_at
        return Outcome(len(counted(api, since)), delay * 1000, seconds)


async def per_token_baseline(chat_id: int, tokens_per_second: float) -> Outcome:
    """The same reply shown after every token, with no pacing (the naive bot)."""
    model = ScriptedModel(reply_tokens(), tokens_per_second)
    dialog = DialogManager(generator=model, store=MemoryStore())
    async with FakeTelegramAPI() as api:
        adapter = TelegramAdapter(dialog, token=api.token, api_url=api.url, poll_timeout=1.0)
        async with adapter:
            bot = adapter.bot
            renderer = TelegramRenderer()
            sink = TelegramSink(bot, renderer, chat_id=chat_id, thread_id=None, reply_to=None)

            async def no_gate() -> None:
                return None

            messages = ReplyMessages(sink, TELEGRAM_CAPABILITIES, renderer, before_call=no_gate)
            message = IncomingMessage(
                id="1",
                conversation=ConversationRef("telegram", None, str(chat_id)),
                sender=Sender("4242"),
                text="Explain streaming.",
                sent_at=datetime.now(UTC),
            )
            since = len(api.calls)
            started = time.monotonic()
            stream = dialog.handle(message)
            async for snapshot in stream:
                await messages.show(snapshot)
            await messages.show(stream.reply.display_text, stream.reply)
            seconds = time.monotonic() - started
        assert model.first_token_at is not None
        delay = first_visible(api, since) - model.first_token_at
        return Outcome(len(counted(api, since)), delay * 1000, seconds)


async def main(tokens_per_second: float) -> None:
    print(
        f"Telegram streaming: one {REPLY_TOKENS}-token reply at {tokens_per_second:g} tokens/s "
        f"(about {REPLY_TOKENS / tokens_per_second:.1f} s of generation), fake Bot API on loopback"
    )
    baseline = await per_token_baseline(GROUP_CHAT, tokens_per_second)
    rows = [
        ("per-token edits (baseline)", baseline),
        ("private chat, drafts", await paced(PRIVATE_CHAT, tokens_per_second, drafts=True)),
        ("private chat, edits", await paced(PRIVATE_CHAT, tokens_per_second, drafts=False)),
        ("group chat, edits", await paced(GROUP_CHAT, tokens_per_second, drafts=True)),
    ]
    print(f"{'scenario':<28}{'API calls':>10}{'vs baseline':>13}{'first token→visible':>22}")
    for name, outcome in rows:
        ratio = outcome.calls / baseline.calls
        print(f"{name:<28}{outcome.calls:>10}{ratio:>12.3f}x{outcome.first_visible_ms:>19.1f} ms")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tokens-per-second", type=float, default=50.0)
    args = parser.parse_args()
    asyncio.run(main(args.tokens_per_second))


if __name__ == "__main__":
    cli()
