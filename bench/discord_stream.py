"""Discord streaming cost: REST calls per 500-token reply, and first-token-to-screen delay.

Runs the real DiscordAdapter (discord.py on the gateway) against the fake REST API and
gateway, with the real DialogManager over a scripted in-process model that emits tokens at
a steady rate. The baseline, measured in the same run, is a bot that edits its message
after every token: its calls are counted by a sink that sends nothing (Discord would hold
such a bot to five edits per five seconds per channel, so sending them would only measure
that wait). Usage: python -m bench.discord_stream [--tokens-per-second N]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.delivery import ReplyMessages
from adapters.discord.adapter import DiscordAdapter
from adapters.discord.options import DISCORD_CAPABILITIES, DiscordOptions
from adapters.discord.routing import DiscordEndpoints
from adapters.markdown import PassthroughRenderer, RenderedMessage
from adapters.mentions import neutralize_mentions
from bench.telegram_stream import REPLY_TOKENS, ScriptedModel, reply_tokens
from core.dialog import DialogManager
from core.messages import ConversationRef, IncomingMessage, Reply, Sender
from core.store.memory import MemoryStore
from tests.fakes.discord_api import FakeDiscordAPI
from tests.fakes.discord_gateway import FakeDiscordGateway
from tests.fakes.discord_model import DiscordWorld

VISIBLE_CALLS = ("create_message", "edit_message", "edit_original", "followup", "edit_followup")
COUNTED_CALLS = (*VISIBLE_CALLS, "typing", "interaction_callback", "delete_message")


@dataclass(frozen=True)
class Outcome:
    calls: int
    messages: int
    first_visible_ms: float
    seconds: float


class CountingSink:
    """A MessageSink that sends nothing and counts the calls it would make."""

    def __init__(self) -> None:
        self.calls = 0
        self.first_visible_at: float | None = None
        self._ids = 0

    def _made(self, message: RenderedMessage) -> None:
        self.calls += 1
        if self.first_visible_at is None and message.text:
            self.first_visible_at = time.monotonic()

    async def post(self, message: RenderedMessage, *, final: Reply | None) -> str:
        self._made(message)
        self._ids += 1
        return str(self._ids)

    async def update(
        self, message_id: str, message: RenderedMessage, *, final: Reply | None
    ) -> None:
        self._made(message)

    async def remove(self, message_id: str) -> None:
        self.calls += 1

    async def preview(self, index: int, message: RenderedMessage) -> bool:
        return False


async def per_token_baseline(tokens_per_second: float) -> Outcome:
    """The reply shown after every token, with no pacing (the naive bot), calls counted."""
    model = ScriptedModel(reply_tokens(), tokens_per_second)
    dialog = DialogManager(generator=model, store=MemoryStore())
    sink = CountingSink()

    async def no_gate() -> None:
        return None

    renderer = PassthroughRenderer()
    messages = ReplyMessages(sink, DISCORD_CAPABILITIES, renderer, before_call=no_gate)
    message = IncomingMessage(
        id="1",
        conversation=ConversationRef("discord", "1", "10"),
        sender=Sender("4242"),
        text="Explain streaming.",
        sent_at=datetime.now(UTC),
    )
    started = time.monotonic()
    stream = dialog.handle(message)
    async for snapshot in stream:
        await messages.show(neutralize_mentions(snapshot))
    await messages.show(stream.reply.display_text, stream.reply)
    seconds = time.monotonic() - started
    assert model.first_token_at is not None and sink.first_visible_at is not None
    delay = sink.first_visible_at - model.first_token_at
    return Outcome(sink.calls, len(messages.message_ids), delay * 1000, seconds)


def counted(api: FakeDiscordAPI, since: int) -> list[str]:
    return [call.route for call in api.calls[since:] if call.route in COUNTED_CALLS]


def first_visible(api: FakeDiscordAPI, since: int) -> float:
    return next(
        call.at
        for call in api.calls[since:]
        if call.route in VISIBLE_CALLS and call.status < 300 and call.params.get("content")
    )


async def paced(scenario: str, tokens_per_second: float) -> Outcome:
    """One reply through the real adapter in a channel, a DM, or to /ask."""
    model = ScriptedModel(reply_tokens(), tokens_per_second)
    dialog = DialogManager(generator=model, store=MemoryStore())
    world = DiscordWorld()
    async with FakeDiscordAPI(world) as api, FakeDiscordGateway(world) as gateway:
        adapter = DiscordAdapter(
            dialog,
            token=world.token,
            endpoints=DiscordEndpoints(api.api_url, gateway.url),
            options=DiscordOptions(guild_ready_timeout=0.05),
        )
        async with adapter:
            channel = world.dm_channel_id if scenario == "dm" else world.channel_id
            since = len(api.calls)
            started = time.monotonic()
            event, payload = _event(world, api, scenario, channel)
            await gateway.dispatch(event, payload)
            await api.wait_until(
                lambda: any(m.components for m in api.visible(channel)), within=300
            )
            seconds = time.monotonic() - started
        assert model.first_token_at is not None
        delay = first_visible(api, since) - model.first_token_at
        shown = len(api.visible(channel))
        return Outcome(len(counted(api, since)), shown, delay * 1000, seconds)


def _event(
    world: DiscordWorld, api: FakeDiscordAPI, scenario: str, channel: str
) -> tuple[str, dict[str, Any]]:
    if scenario != "ask":
        mention = scenario == "channel"
        return "MESSAGE_CREATE", world.user_message(
            channel, "Explain streaming.", mention_bot=mention
        )
    ask = next(c for c in api.commands if c["name"] == "ask")
    data = {
        "id": ask["id"],
        "name": "ask",
        "type": 1,
        "options": [{"name": "question", "type": 3, "value": "Explain streaming."}],
    }
    return "INTERACTION_CREATE", world.interaction(channel, kind=2, data=data)


async def main(tokens_per_second: float) -> None:
    print(
        f"Discord streaming: one {REPLY_TOKENS}-token reply at {tokens_per_second:g} tokens/s "
        f"(about {REPLY_TOKENS / tokens_per_second:.1f} s of generation), fake REST API and "
        "gateway on loopback, real discord.py"
    )
    baseline = await per_token_baseline(tokens_per_second)
    rows = [
        ("per-token edits (baseline)", baseline),
        ("server channel, mention", await paced("channel", tokens_per_second)),
        ("direct message", await paced("dm", tokens_per_second)),
        ("slash command /ask", await paced("ask", tokens_per_second)),
    ]
    print(
        f"{'scenario':<28}{'REST calls':>11}{'vs baseline':>13}{'messages':>10}"
        f"{'first token→visible':>22}{'reply took':>12}"
    )
    for name, outcome in rows:
        ratio = outcome.calls / baseline.calls
        print(
            f"{name:<28}{outcome.calls:>11}{ratio:>12.3f}x{outcome.messages:>10}"
            f"{outcome.first_visible_ms:>19.1f} ms{outcome.seconds:>10.1f} s"
        )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tokens-per-second", type=float, default=50.0)
    args = parser.parse_args()
    asyncio.run(main(args.tokens_per_second))


if __name__ == "__main__":
    cli()
