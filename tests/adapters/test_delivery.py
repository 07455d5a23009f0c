"""ReplyMessages and layout: which messages are posted, previewed, updated and removed."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.capabilities import Capabilities, LengthUnit, MarkdownDialect
from adapters.delivery import ReplyMessages
from adapters.markdown import RenderedMessage, layout_messages
from adapters.telegram.render import TelegramRenderer
from core.messages import FinishReason, Reply

SMALL = Capabilities(
    platform="test",
    max_message_length=40,
    length_unit=LengthUnit.UTF16,
    markdown=MarkdownDialect.TELEGRAM_ENTITIES,
    private_edit_interval=1.0,
    group_edit_interval=3.0,
    global_calls_per_second=30.0,
    supports_drafts=True,
)
FINAL = Reply("done", "en", FinishReason.STOP, (), "r1")


@dataclass
class RecordingSink:
    previews_work: bool = True
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    final_marks: set[str] = field(default_factory=set)

    async def post(self, message: RenderedMessage, *, final: Reply | None) -> str:
        message_id = f"m{len(self.texts) + 1}"
        self.calls.append(("post", message_id, message.text))
        self.texts[message_id] = message.text
        if final is not None:
            self.final_marks.add(message_id)
        return message_id

    async def update(
        self, message_id: str, message: RenderedMessage, *, final: Reply | None
    ) -> None:
        self.calls.append(("update", message_id, message.text))
        self.texts[message_id] = message.text
        if final is not None:
            self.final_marks.add(message_id)

    async def remove(self, message_id: str) -> None:
        self.calls.append(("remove", message_id, ""))
        del self.texts[message_id]

    async def preview(self, index: int, message: RenderedMessage) -> bool:
        self.calls.append(("preview", str(index), message.text))
        return self.previews_work


def messages_for(sink: RecordingSink, *, previews: bool) -> tuple[ReplyMessages, list[int]]:
    gate_calls: list[int] = []

    async def before_call() -> None:
        gate_calls.append(1)

    return (
        ReplyMessages(
            sink, SMALL, TelegramRenderer(), before_call=before_call, use_previews=previews
        ),
        gate_calls,
    )


async def test_edits_in_place_and_marks_the_last_message_final() -> None:
    sink = RecordingSink()
    messages, gate_calls = messages_for(sink, previews=False)
    await messages.show("Hello")
    await messages.show("Hello")  # unchanged: no call
    await messages.show("Hello **world**")
    await messages.show("Hello **world**", FINAL)  # same text, now final: controls added
    assert [c[0] for c in sink.calls] == ["post", "update", "update"]
    assert sink.texts == {"m1": "Hello world"}
    assert sink.final_marks == {"m1"}
    assert len(gate_calls) == len(sink.calls)


async def test_overflow_seals_earlier_messages_and_previews_the_growing_one() -> None:
    sink = RecordingSink()
    messages, _ = messages_for(sink, previews=True)
    first = "First paragraph fills the message."
    await messages.show(first)
    await messages.show(first + "\n\nSecond one grows")
    await messages.show(first + "\n\nSecond one grows longer", FINAL)
    assert sink.calls == [
        ("preview", "0", first),
        ("post", "m1", first),
        ("preview", "1", "Second one grows"),
        ("post", "m2", "Second one grows longer"),
    ]
    assert sink.final_marks == {"m2"}


async def test_previews_refused_fall_back_to_posting_and_editing() -> None:
    sink = RecordingSink(previews_work=False)
    messages, _ = messages_for(sink, previews=True)
    await messages.show("one")
    await messages.show("one two")
    assert [c[0] for c in sink.calls] == ["preview", "post", "update"]
    assert not messages.use_previews


async def test_a_shorter_final_text_removes_messages_it_no_longer_needs() -> None:
    sink = RecordingSink()
    messages, _ = messages_for(sink, previews=False)
    await messages.show("A paragraph that fills a message.\n\nAnd a second one after it.")
    assert len(sink.texts) == 2
    await messages.show("Replaced by a refusal.", FINAL)
    assert sink.texts == {"m1": "Replaced by a refusal."}
    assert ("remove", "m2", "") in sink.calls


def test_rendering_that_outgrows_the_limit_is_split_tighter() -> None:
    # "***" renders as an eight-character rule: 28 source units become 46 rendered ones.
    markdown = "\n\n".join(["***"] * 5 + ["# Title"])
    assert SMALL.measure(markdown) <= SMALL.max_message_length
    renderer = TelegramRenderer()
    assert SMALL.measure(renderer.render(markdown).text) > SMALL.max_message_length
    laid_out = layout_messages(markdown, SMALL, renderer)
    assert len(laid_out) >= 2
    assert all(SMALL.measure(message.text) <= SMALL.max_message_length for message in laid_out)
    shown = "".join(message.text for message in laid_out)
    assert shown.count("————————") == 5 and "Title" in shown


def test_partial_markdown_renders_without_failing() -> None:
    renderer = TelegramRenderer()
    for partial in ["**bold start", "```python\nprint(", "_it", "[link](http://", "| a | b"]:
        rendered = renderer.render(partial)
        assert rendered.text
        for entity in rendered.entities:
            assert entity["offset"] + entity["length"] <= LengthUnit.UTF16.measure(rendered.text)


def test_markup_with_nothing_visible_is_shown_as_its_source() -> None:
    (message,) = layout_messages("```\n```", SMALL, TelegramRenderer())
    assert message.plain and message.text == "```\n```"
