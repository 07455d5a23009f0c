"""The user's wait: from the model's first token to the first and the last visible text.

Run: .venv/bin/python -m bench.latency [--delay 0.045] [--tokens 120] [--runs 5] [--data DIR]

The fake TGI (a child process) streams one reply per language, built from the sentences of
`DIR/langid/` (default ../shared/eval), one token every `--delay` seconds. Each reply goes
through the real pipeline (dialog manager, TGI pool over HTTP, language policy, guards) to a
recording adapter that notes when each snapshot arrives; the model's first and last token are
noted where the pool hands them to the pipeline. The baseline is the raw stream: the bare TGI
client on the same fake, in the same run. Guard sets: the defaults (word lists, language,
repetition), each alone, and none. Platform pacing (Telegram's one edit a second in a private
chat) is measured separately, for the default guards, through the shared `ReplyPacer`.

Tokens approximate BLOOM's tokenizer: a word is cut into pieces of at most four characters,
the space going with the piece after it; Chinese is sent one character a token (BLOOM often
packs two, so this is the slower case for showing text early).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from adapters.pacer import RateGate, ReplyPacer
from adapters.telegram.adapter import TELEGRAM_CAPABILITIES
from bench.fake_tgi_process import fake_tgi_process
from bench.langid_data import DEFAULT_DATA, langid_sentences
from bots.language_setup import build_language_policy, load_language_models
from bots.settings import Settings
from bots.wiring import build_guards
from core.config import DialogConfig
from core.dialog import DialogManager
from core.generation.base import GenerationParams, ModelInfo, TextGenerator, Token
from core.generation.pool import ReplicaPool
from core.generation.tgi import TgiGenerator
from core.guards.base import Guard
from core.messages import ConversationRef, IncomingMessage, Reply, Sender
from core.store.memory import MemoryStore

LANGUAGES = ("en", "fr", "hi", "ar", "zh", "sw")
UNSPACED = frozenset({"zh", "zh-hant"})
PIECE = 4
_WORD = re.compile(r"\s*\S+")


def model_tokens(text: str, language: str) -> list[str]:
    """`text` cut as the model streams it (see the module docstring)."""
    if language in UNSPACED:
        return list(text)
    tokens: list[str] = []
    for word in _WORD.findall(text):
        leading = len(word) - len(word.lstrip())
        first = word[: leading + PIECE]
        tokens.append(first)
        rest = word[len(first) :]
        tokens.extend(rest[i : i + PIECE] for i in range(0, len(rest), PIECE))
    return tokens


def build_reply(sentences: Sequence[str], language: str, count: int) -> list[str]:
    """Whole sentences joined until the reply has at least `count` tokens."""
    joiner = "" if language in UNSPACED else " "
    text = ""
    for sentence in sentences:
        text = f"{text}{joiner}{sentence}" if text else sentence
        if len(model_tokens(text, language)) >= count:
            break
    return model_tokens(text, language)


class TimedGenerator:
    """Passes the pool's tokens on and notes when the first and last of each reply arrived."""

    def __init__(self, inner: TextGenerator) -> None:
        self._inner = inner
        self.first: float | None = None
        self.last: float | None = None

    async def stream(self, prompt: str, params: GenerationParams) -> AsyncGenerator[Token, None]:
        stream = self._inner.stream(prompt, params)
        try:
            async for token in stream:
                now = time.perf_counter()
                if self.first is None:
                    self.first = now
                self.last = now
                yield token
        finally:
            await stream.aclose()

    async def info(self) -> ModelInfo:
        return await self._inner.info()

    async def tokenize(self, text: str) -> Sequence[int] | None:
        return await self._inner.tokenize(text)

    async def aclose(self) -> None:
        return None


@dataclass
class Timing:
    """One reply, in seconds from the message: model tokens and visible text."""

    first_token: float
    last_token: float
    first_visible: float
    last_visible: float


@dataclass
class Row:
    """The timings of one guard set for one language."""

    runs: list[Timing] = field(default_factory=list)

    def median(self, name: str) -> float:
        return float(statistics.median(getattr(run, name) for run in self.runs)) * 1000

    def median_gap(self, late: str, early: str) -> float:
        gaps = [float(getattr(run, late) - getattr(run, early)) for run in self.runs]
        return statistics.median(gaps) * 1000


def _message(language: str, text: str, channel: str) -> IncomingMessage:
    return IncomingMessage(
        id=channel,
        conversation=ConversationRef("bench", None, channel),
        sender=Sender(id=channel, locale_hint=language),
        text=text,
        sent_at=datetime.now(UTC),
    )


def _dialog(
    pool: ReplicaPool, guards: Sequence[Guard], settings: Settings
) -> tuple[DialogManager, TimedGenerator]:
    timed = TimedGenerator(pool)
    config = DialogConfig(generation=GenerationParams(max_new_tokens=1000), history_turns=4)
    dialog = DialogManager(
        generator=timed,
        store=MemoryStore(),
        config=config,
        language_policy=build_language_policy(settings),
        guards=guards,
    )
    return dialog, timed


async def _record(
    pool: ReplicaPool, guards: Sequence[Guard], settings: Settings, message: IncomingMessage
) -> Timing:
    """The recording adapter: notes when each new snapshot and the final reply arrive."""
    dialog, timed = _dialog(pool, guards, settings)
    started = time.perf_counter()
    first_visible: float | None = None
    stream = dialog.handle(message)
    async for snapshot in stream:
        if first_visible is None and snapshot.strip():
            first_visible = time.perf_counter()
    ended = time.perf_counter()
    assert timed.first is not None and timed.last is not None, "the model sent nothing"
    return Timing(
        timed.first - started,
        timed.last - started,
        (first_visible or ended) - started,
        ended - started,
    )


async def _paced(
    pool: ReplicaPool, guards: Sequence[Guard], settings: Settings, message: IncomingMessage
) -> Timing:
    """The same through the shared pacer at Telegram's private-chat edit interval."""
    dialog, timed = _dialog(pool, guards, settings)
    gate = RateGate(calls_per_second=TELEGRAM_CAPABILITIES.global_calls_per_second)
    interval = TELEGRAM_CAPABILITIES.edit_interval(private=True)
    shown: list[float] = []
    chat = message.conversation.key

    async def publish(text: str, final: Reply | None) -> None:
        await gate.acquire(chat, interval)
        shown.append(time.perf_counter())

    started = time.perf_counter()
    await ReplyPacer(gate).deliver(dialog.handle(message), publish, chat=chat)
    assert timed.first is not None and timed.last is not None, "the model sent nothing"
    return Timing(
        timed.first - started, timed.last - started, shown[0] - started, shown[-1] - started
    )


async def _raw(url: str, question: str) -> Timing:
    """The bare client on the same reply: the time the user would wait with nothing between."""
    async with TgiGenerator(url) as client:
        started = time.perf_counter()
        first = last = None
        params = GenerationParams(max_new_tokens=1000)
        async for _token in client.stream(f"<human>: {question}\n<bot>:", params):
            last = time.perf_counter()
            first = first or last
    assert first is not None and last is not None
    return Timing(first - started, last - started, first - started, last - started)


def guard_sets(guards: Sequence[Guard]) -> dict[str, list[Guard]]:
    """The default guards, each alone, and none."""
    sets = {"default": list(guards)}
    sets.update({guard.name: [guard] for guard in guards})
    sets["none"] = []
    return sets


async def main(delay: float, tokens: int, runs: int, data: Path) -> None:
    settings = Settings(tgi_urls=["http://127.0.0.1:1"])
    await load_language_models(settings)
    sets = guard_sets(build_guards(settings))
    replies: dict[str, list[str]] = {}
    questions: dict[str, str] = {}
    for language in LANGUAGES:
        sentences = langid_sentences(data, language)
        questions[language] = sentences[0]
        replies[questions[language]] = build_reply(sentences[1:], language, tokens)
    results: dict[tuple[str, str], Row] = {}
    with fake_tgi_process(replies=replies, token_delay=delay) as tgi:
        url = tgi.url
        async with ReplicaPool.from_urls([url]) as pool:
            for language in LANGUAGES:
                question = questions[language]
                raw = [_raw(url, question) for _ in range(runs)]
                jobs = {
                    (name, index): _record(
                        pool, guards, settings, _message(language, question, f"{name}{index}")
                    )
                    for name, guards in sets.items()
                    for index in range(runs)
                }
                paced = [
                    _paced(pool, sets["default"], settings, _message(language, question, f"p{i}"))
                    for i in range(runs)
                ]
                done = await asyncio.gather(*raw, *jobs.values(), *paced)
                results[("raw", language)] = Row(list(done[:runs]))
                for (name, _), timing in zip(jobs, done[runs : runs + len(jobs)], strict=True):
                    results.setdefault((name, language), Row()).runs.append(timing)
                results[("default, paced", language)] = Row(list(done[runs + len(jobs) :]))
    counts = {language: len(replies[questions[language]]) for language in LANGUAGES}
    _print(results, sets, delay, counts, runs)


def _print(
    results: dict[tuple[str, str], Row],
    sets: dict[str, list[Guard]],
    delay: float,
    counts: dict[str, int],
    runs: int,
) -> None:
    tokens = max(counts.values())
    print(
        f"~{tokens}-token replies at {delay * 1000:.0f} ms a token, median of {runs} runs; "
        "times in ms from the user's message"
    )
    print(
        f"{'guards':<16}{'lang':<6}{'1st token':>10}{'1st shown':>10}{'wait':>8}{'tokens':>8}"
        f"{'last token':>11}{'last shown':>11}{'lag':>7}{'total/raw':>10}"
    )
    for name in ["raw", *sets, "default, paced"]:
        for language in LANGUAGES:
            row = results[(name, language)]
            raw = results[("raw", language)]
            # The wait in model tokens, at the pace the raw stream kept in this run.
            interval = raw.median_gap("last_visible", "first_token") / (counts[language] - 1)
            wait = row.median_gap("first_visible", "first_token")
            ratio = row.median_gap("last_visible", "first_token") / raw.median_gap(
                "last_visible", "first_token"
            )
            print(
                f"{name:<16}{language:<6}{row.median('first_token'):>10.0f}"
                f"{row.median('first_visible'):>10.0f}"
                f"{wait:>8.0f}{wait / interval:>8.1f}"
                f"{row.median('last_token'):>11.0f}{row.median('last_visible'):>11.0f}"
                f"{row.median_gap('last_visible', 'last_token'):>7.0f}{ratio:>9.3f}x"
            )
    print(
        "wait: first shown minus the model's first token; tokens: that wait in tokens at the raw "
        "stream's pace in this run (at 45 ms a token, 250 ms is 5.6 tokens); "
        "lag: last shown minus its last token; "
        "total/raw: first token to last shown, against the raw stream's first to last token"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=0.045, help="seconds between tokens")
    parser.add_argument("--tokens", type=int, default=120, help="tokens per reply (about)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.delay, arguments.tokens, arguments.runs, arguments.data))
