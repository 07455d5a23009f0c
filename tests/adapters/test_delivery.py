"""ReplyMessages and layout: which messages are posted, previewed, updated and removed."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.capabilities import Capabilities, LengthUnit, MarkdownDialect
from adapters.delivery import AppendedReply, ReplyMessages
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


@dataclass
class AppendRecordingSink:
    """An append-only platform: streamed messages grow, closed ones may be replaced whole."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    open_ids: set[str] = field(default_factory=set)
    final_marks: set[str] = field(default_factory=set)

    def _new_id(self) -> str:
        return f"s{len(self.calls) + 1}"

    async def open(self, markdown: str) -> str:
        message_id = self._new_id()
        self.calls.append(("open", message_id, markdown))
        self.texts[message_id] = markdown
        self.open_ids.add(message_id)
        return message_id

    async def append(self, message_id: str, markdown: str) -> None:
        assert message_id in self.open_ids, "appending to a closed message"
        self.calls.append(("append", message_id, markdown))
        self.texts[message_id] += markdown

    async def close(self, message_id: str, *, final: Reply | None) -> None:
        assert message_id in self.open_ids
        self.calls.append(("close", message_id, ""))
        self.open_ids.discard(message_id)
        if final is not None:
            self.final_marks.add(message_id)

    async def post(self, message: RenderedMessage, *, final: Reply | None) -> str:
        message_id = self._new_id()
        self.calls.append(("post", message_id, message.source))
        self.texts[message_id] = message.source
        if final is not None:
            self.final_marks.add(message_id)
        return message_id

    async def update(
        self, message_id: str, message: RenderedMessage, *, final: Reply | None
    ) -> None:
        assert message_id not in self.open_ids, "replacing a message that is still streaming"
        self.calls.append(("update", message_id, message.source))
        self.texts[message_id] = message.source
        if final is not None:
            self.final_marks.add(message_id)

    async def remove(self, message_id: str) -> None:
        self.calls.append(("remove", message_id, ""))
        self.open_ids.discard(message_id)
        del self.texts[message_id]


def appended_for(sink: AppendRecordingSink) -> AppendedReply:
    async def before_call() -> None:
        pass

    return AppendedReply(sink, SMALL, TelegramRenderer(), before_call=before_call)


async def test_append_only_streams_grow_by_the_new_text_and_close_with_the_final() -> None:
    sink = AppendRecordingSink()
    reply = appended_for(sink)
    await reply.show("Hello")
    await reply.show("Hello")
    await reply.show("Hello there")
    await reply.show("Hello there, friend.", FINAL)
    assert [(c[0], c[2]) for c in sink.calls] == [
        ("open", "Hello"),
        ("append", " there"),
        ("append", ", friend."),
        ("close", ""),
    ]
    assert list(sink.texts.values()) == ["Hello there, friend."]
    assert sink.final_marks == set(sink.texts)


async def test_a_guard_cut_after_text_was_appended_leaves_the_right_final_text() -> None:
    sink = AppendRecordingSink()
    reply = appended_for(sink)
    await reply.show("Safe start. Then something bad")
    # The safety guard replaced the reply: appended text must not survive.
    await reply.show("I can't help with that.", FINAL)
    assert list(sink.texts.values()) == ["I can't help with that."]
    assert [c[0] for c in sink.calls] == ["open", "close", "update"]
    assert sink.final_marks == set(sink.texts) and not sink.open_ids


async def test_append_only_overflow_closes_earlier_messages_and_removes_unneeded_ones() -> None:
    sink = AppendRecordingSink()
    reply = appended_for(sink)
    first = "One sentence here.\n\nAnother paragraph that runs on."
    await reply.show(first)
    assert len(sink.texts) == 2
    earlier, later = list(sink.texts)
    assert earlier not in sink.open_ids and later in sink.open_ids
    # A cut back to one short message: the second message goes, the first is final.
    await reply.show("One sentence here.", FINAL)
    assert sink.texts == {earlier: "One sentence here."}
    assert sink.final_marks == {earlier} and not sink.open_ids


async def test_a_reply_complete_before_it_was_shown_is_posted_whole() -> None:
    sink = AppendRecordingSink()
    await appended_for(sink).show("Short answer.", FINAL)
    assert [c[0] for c in sink.calls] == ["post"]
