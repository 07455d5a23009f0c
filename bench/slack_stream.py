"""Slack streaming cost: Web API calls per 500-token reply, and first-token-to-screen delay.

Runs the real SlackAdapter (slack-bolt in Socket Mode) against the fake Web API, with the
real DialogManager over a scripted in-process model that emits tokens at a steady rate.
The baseline, measured in the same run, posts the reply and updates it after every token
(what a bot does without pacing). Counted: chat.* and assistant.threads.setStatus calls
(auth.test and users.info happen once per process or user, not per reply).
Usage: python -m bench.slack_stream [--tokens-per-second N]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from typing import Any

from adapters.slack.adapter import SlackAdapter
from adapters.slack.render import SlackRenderer
from adapters.slack.sink import SlackMessageSink
from adapters.slack.translate import to_incoming_message
from bench.telegram_stream import REPLY_TOKENS, ScriptedModel, reply_tokens
from core.dialog import DialogManager
from core.store.memory import MemoryStore
from tests.fakes.slack_api import FakeSlackAPI

COUNTED_PREFIXES = ("chat.", "assistant.threads.")
VISIBLE_CALLS = ("chat.postMessage", "chat.update", "chat.startStream", "chat.appendStream")
DM, CHANNEL, USER = "D0BENCH", "C0BENCH", "U0BENCHER"


@dataclass(frozen=True)
class Outcome:
    calls: int
    first_visible_ms: float
    seconds: float
    methods: dict[str, int]


def post_event(api: FakeSlackAPI, *, dm: bool) -> dict[str, Any]:
    """The Events API envelope of one user post: a DM, or a channel post mentioning the bot."""
    event: dict[str, Any] = {
        "type": "message" if dm else "app_mention",
        "user": USER,
        "ts": "1790003000.000100",
        "channel": DM if dm else CHANNEL,
        "text": "Explain streaming." if dm else f"<@{api.bot_user_id}> Explain streaming.",
        "team": api.team_id,
    }
    if dm:
        event["channel_type"] = "im"
    return {
        "type": "event_callback",
        "team_id": api.team_id,
        "event_id": "Ev0BENCH",
        "event": event,
        "authorizations": [{"user_id": api.bot_user_id, "is_bot": True}],
    }


def measure(api: FakeSlackAPI, since: int, first_token_at: float, seconds: float) -> Outcome:
    calls = [call for call in api.calls[since:] if call.method.startswith(COUNTED_PREFIXES)]
    first = next(
        call.at
        for call in calls
        if call.method in VISIBLE_CALLS
        and call.failed is None
        and (call.params.get("chunks") or call.params.get("blocks") or call.params.get("text"))
    )
    methods: dict[str, int] = {}
    for call in calls:
        methods[call.method] = methods.get(call.method, 0) + 1
    return Outcome(len(calls), (first - first_token_at) * 1000, seconds, methods)


async def paced(tokens_per_second: float, *, dm: bool, streaming: bool) -> Outcome:
    """One reply through the real adapter: native streaming, or paced post and update."""
    model = ScriptedModel(reply_tokens(), tokens_per_second)
    dialog = DialogManager(generator=model, store=MemoryStore())
    async with FakeSlackAPI() as api:
        adapter = SlackAdapter(
            dialog,
            bot_token=api.bot_token,
            app_token=api.app_token,
            api_url=api.base_url,
            streaming=streaming,
        )
        async with adapter:
            since = len(api.calls)
            started = time.monotonic()
            api.send(post_event(api, dm=dm))
            channel = DM if dm else CHANNEL
            await api.wait_until(
                lambda: any(m.action_values() for m in api.visible(channel)), within=120
            )
            seconds = time.monotonic() - started
        assert model.first_token_at is not None
        return measure(api, since, model.first_token_at, seconds)


async def per_token_baseline(tokens_per_second: float) -> Outcome:
    """The same reply posted, then updated after every token with no pacing (the naive bot)."""
    model = ScriptedModel(reply_tokens(), tokens_per_second)
    dialog = DialogManager(generator=model, store=MemoryStore())
    async with FakeSlackAPI() as api:
        adapter = SlackAdapter(
            dialog, bot_token=api.bot_token, app_token=api.app_token, api_url=api.base_url
        )
        async with adapter:
            renderer = SlackRenderer()
            sink = SlackMessageSink(adapter.client, channel=CHANNEL, thread_ts="1790003000.000100")
            since = len(api.calls)
            started = time.monotonic()
            message = to_incoming_message(post_event(api, dm=False))
            assert message is not None
            stream = dialog.handle(message)
            ts: str | None = None
            async for snapshot in stream:
                shown = renderer.render(snapshot)
                if ts is None:
                    ts = await sink.post(shown, final=None)
                else:
                    await sink.update(ts, shown, final=None)
            assert ts is not None
            await sink.update(ts, renderer.render(stream.reply.display_text), final=stream.reply)
            seconds = time.monotonic() - started
        assert model.first_token_at is not None
        return measure(api, since, model.first_token_at, seconds)


async def main(tokens_per_second: float) -> None:
    print(
        f"Slack streaming: one {REPLY_TOKENS}-token reply at {tokens_per_second:g} tokens/s "
        f"(about {REPLY_TOKENS / tokens_per_second:.1f} s of generation), fake Web API on loopback"
    )
    baseline = await per_token_baseline(tokens_per_second)
    rows = [
        ("per-token updates (baseline)", baseline),
        ("thread, native stream", await paced(tokens_per_second, dm=False, streaming=True)),
        ("thread, post + update", await paced(tokens_per_second, dm=False, streaming=False)),
        ("DM, post + update", await paced(tokens_per_second, dm=True, streaming=True)),
    ]
    print(f"{'scenario':<30}{'API calls':>10}{'vs baseline':>13}{'first token→visible':>22}")
    for name, outcome in rows:
        ratio = outcome.calls / baseline.calls
        print(f"{name:<30}{outcome.calls:>10}{ratio:>12.3f}x{outcome.first_visible_ms:>19.1f} ms")
    print()
    for name, outcome in rows:
        detail = ", ".join(f"{method} {count}" for method, count in sorted(outcome.methods.items()))
        print(f"{name}: {detail}")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tokens-per-second", type=float, default=50.0)
    args = parser.parse_args()
    asyncio.run(main(args.tokens_per_second))


if __name__ == "__main__":
    cli()
