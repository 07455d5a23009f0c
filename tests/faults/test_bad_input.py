"""Input that used to break things: invisible messages, oversize messages, markup in commands."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from adapters.telegram.render import TelegramRenderer
from core.config import DialogConfig
from core.dialog import DialogManager
from core.generation.base import GenerationParams
from core.generation.tgi import TgiGenerator
from core.messages import FinishReason, Reply
from core.notices import notice
from core.store.memory import MemoryStore
from tests.fakes.tgi import FakeInfo, FakeTGI, Script
from tests.faults.messages import message


@dataclass
class Rig:
    tgi: FakeTGI
    dialog: DialogManager

    async def ask(self, text: str) -> Reply:
        return await self.dialog.handle(message(text)).collect()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    config = DialogConfig(generation=GenerationParams(max_new_tokens=64), max_message_chars=1000)
    info = FakeInfo(max_input_tokens=150, max_total_tokens=400)
    async with FakeTGI(info=info) as tgi, TgiGenerator(tgi.url) as generator:
        yield Rig(tgi, DialogManager(generator=generator, store=MemoryStore(), config=config))


@pytest.mark.parametrize("text", ["", "   ", "\u200b", "\u200b\u200d\u2060", "\u00ad \ufeff"])
async def test_an_empty_or_invisible_message_is_not_sent_to_the_model(rig: Rig, text: str) -> None:
    reply = await rig.ask(text)
    assert reply.finish_reason is FinishReason.REJECTED
    assert reply.notices == (notice("empty_message", "en"),)
    assert rig.tgi.generation_requests() == []


def requested_cut(reply: Reply) -> int:
    assert reply.finish_reason is FinishReason.REJECTED
    found = re.search(r"about (\d+) characters", reply.notices[0])
    assert found is not None, reply.notices
    return int(found[1])


@pytest.mark.parametrize("words", [230, 400])
async def test_a_user_who_cuts_as_told_is_not_told_again(rig: Rig, words: int) -> None:
    # 230 words: within the character limit, over the token budget. 400 words: over both,
    # and even the part within the character limit is over the token budget.
    text = " ".join(f"w{n % 10}" for n in range(words))
    cut = requested_cut(await rig.ask(text))
    assert rig.tgi.generation_requests() == []
    rig.tgi.enqueue(Script(reply="Thanks."))
    shortened = await rig.ask(text[: len(text) - cut])
    assert shortened.text == "Thanks."


async def test_over_the_character_limit_only_the_excess_is_asked_for(rig: Rig) -> None:
    config = DialogConfig(generation=GenerationParams(max_new_tokens=64), max_message_chars=20)
    dialog = DialogManager(generator=rig.dialog.generator, store=MemoryStore(), config=config)
    reply = await dialog.handle(message("a" * 25)).collect()
    assert requested_cut(reply) == 5


async def test_an_echoed_argument_is_shown_as_text_not_as_a_link(rig: Rig) -> None:
    disguised = "[label](https://evil.example/login)"
    reply = await rig.ask(f"/lang {disguised}")
    assert disguised in reply.text  # plain text, as the user wrote it
    # Rendered for Telegram the answer is the same words with no link or formatting inside.
    rendered = TelegramRenderer().render(reply.display_text)
    assert disguised in rendered.text
    assert rendered.entities == ()


@pytest.mark.parametrize(
    "quoted",
    [
        "**bold** _it_ `code`",
        "<https://evil.example>",
        "# heading",
        "a\\b ~~x~~ |t|",
        "- item",
        "1. first",
        "$x$ and $y$",
    ],
)
def test_notices_are_escaped_so_markdown_shows_them_as_written(quoted: str) -> None:
    reply = Reply("", "en", FinishReason.COMMAND, (notice("lang_unknown", "en", code=quoted),))
    rendered = TelegramRenderer().render(reply.display_text)
    assert quoted in rendered.text
    assert {entity["type"] for entity in rendered.entities} == {"italic"}


@pytest.mark.parametrize("marker", ["<bot>:", "<Human>:", "<human> :", "</s>"])
async def test_model_output_with_a_turn_marker_variant_ends_at_the_marker(
    rig: Rig, marker: str
) -> None:
    rig.tgi.enqueue(Script(reply=f"The answer is 4.\n{marker} and now a made-up turn"))
    stream = rig.dialog.handle(message("2+2?"))
    snapshots = [snapshot async for snapshot in stream]
    assert stream.reply.text == "The answer is 4."
    assert all("made-up" not in snapshot and "<" not in snapshot for snapshot in snapshots)


def test_only_what_could_start_markup_is_escaped() -> None:
    reply = Reply("", "ca", FinishReason.ERROR, (notice("model_error", "ca"),))
    assert "\\" not in reply.display_text  # "Torna-ho" keeps its hyphen unescaped
