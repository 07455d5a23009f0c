"""The contract every platform adapter passes: the same behaviours, checked through a harness.

A platform's test module subclasses `AdapterContract` and provides a `harness` fixture: a
`PlatformHarness` that runs the real adapter against the platform's local fake, with the
real DialogManager, the real TGI client against the fake TGI server, and real Redis.
Time in the adapter is a `VirtualClock`: rate limits and flood waits are honoured in
virtual seconds, so no test waits for them.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis

from adapters.capabilities import Capabilities
from adapters.mentions import WORD_JOINER
from core.config import DialogConfig
from core.dialog import DialogManager
from core.generation.base import GenerationParams
from core.generation.tgi import TgiGenerator
from core.messages import ConversationRef
from core.notices import notice
from core.store.keys import StoreKeys
from core.store.redis import RedisStore
from tests.fakes.tgi import FakeInfo, FakeTGI, Script


class VirtualClock:
    """Pacing time that jumps forward when slept on; `sleeps` records every wait asked for."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._now += max(seconds, 0.0)
        await asyncio.sleep(0)


@dataclass
class DialogRig:
    """The core an adapter talks to: fake TGI, real TGI client, Redis store, dialog manager."""

    tgi: FakeTGI
    store: RedisStore
    dialog: DialogManager
    redis_url: str
    namespace: str


@asynccontextmanager
async def dialog_rig(redis_url: str, namespace: str) -> AsyncIterator[DialogRig]:
    """A dialog manager whose model may write replies of several thousand tokens."""
    config = DialogConfig(generation=GenerationParams(max_new_tokens=6000))
    async with AsyncExitStack() as stack:
        tgi = await stack.enter_async_context(
            FakeTGI(info=FakeInfo(max_input_tokens=1024, max_total_tokens=8192))
        )
        generator = await stack.enter_async_context(TgiGenerator(tgi.url, first_token_timeout=5.0))
        store = await stack.enter_async_context(RedisStore(redis_url, namespace=namespace))
        dialog = DialogManager(generator=generator, store=store, config=config)
        yield DialogRig(tgi, store, dialog, redis_url, namespace)


class Place(enum.Enum):
    """Where a user writes to the bot."""

    PRIVATE = "private"  # a one-to-one chat
    GROUP = "group"  # a channel shared by several people
    THREAD = "thread"  # a thread or forum topic inside a shared channel


@dataclass(frozen=True)
class Said:
    """A message a user sent through the harness."""

    place: Place
    event_id: str
    message_id: str


@dataclass(frozen=True)
class Shown:
    """A bot message as users see it now."""

    message_id: str
    text: str
    replies_to: str | None = None


@dataclass(frozen=True)
class Change:
    """One API call that created or changed a visible message (or a preview) in a place."""

    target: str  # message id, "new" for a refused post, or "preview:<n>" for a preview
    text: str
    at: float  # virtual time
    refused: bool = False
    controls: bool = False  # feedback controls attached


class PlatformHarness(ABC):
    """A platform's fake, the real adapter and the dialog rig, driven the same way everywhere."""

    def __init__(self, rig: DialogRig, capabilities: Capabilities, clock: VirtualClock) -> None:
        self.rig = rig
        self.capabilities = capabilities
        self.clock = clock

    @abstractmethod
    async def wait_for_text(self, place: Place) -> None:
        """Wait until some reply text is visible in `place` (a message or a preview)."""

    @abstractmethod
    async def say(self, text: str, *, place: Place = Place.PRIVATE, addressed: bool = True) -> Said:
        """A user writes `text` in `place`, to the bot or (addressed=False) to other people."""

    @abstractmethod
    async def redeliver(self, said: Said) -> None:
        """The platform delivers the same event again, as after a restart or a lost ack."""

    @abstractmethod
    async def settle(self) -> None:
        """Wait until every event delivered so far is handled and its reply fully shown."""

    @abstractmethod
    def shown(self, place: Place) -> list[Shown]:
        """The bot's messages visible in `place`, oldest first."""

    @abstractmethod
    def changes(self, place: Place) -> list[Change]:
        """Every message-changing call made in `place`, in order."""

    @abstractmethod
    def waiting_signals(self, place: Place) -> int:
        """How many typing / working indicators were sent to `place`."""

    @abstractmethod
    def first_change_after_waiting_signal(self, place: Place) -> bool:
        """True when the first indicator went out before the first visible text."""

    @abstractmethod
    def flood_wait_on_next_change(self, place: Place, retry_after: int) -> None:
        """The platform answers the next message change in `place` with a flood wait."""

    @abstractmethod
    def refuse_formatting(self, place: Place) -> bool:
        """The platform rejects formatted text in `place` from now on; False if not applicable."""

    @abstractmethod
    def conversation(self, place: Place) -> ConversationRef:
        """The conversation the core sees for `place`."""

    @abstractmethod
    async def rate(self, place: Place, shown: Shown, value: int) -> None:
        """A user presses the 👍 (+1) or 👎 (-1) control under a reply."""

    @property
    @abstractmethod
    def user_id(self) -> str:
        """Sender id of the harness's user, as the core sees it."""

    def visible_length(self, text: str) -> int:
        return self.capabilities.measure(text)


def long_prose(characters: int) -> str:
    """Varied paragraphs of plain prose, about `characters` long."""
    vocabulary = (
        "BLOOMChat answers in forty six languages and keeps each reply in the language of "
        "its reader while the adapter splits long answers at paragraph breaks"
    )
    words = itertools.cycle(vocabulary.split(" "))
    paragraphs: list[str] = []
    total = 0
    for number in itertools.count(1):
        sentence_count = 3 + number % 4
        sentences = []
        for _ in range(sentence_count):
            length = 8 + (number * 7) % 9
            sentences.append(" ".join(next(words) for _ in range(length)).capitalize() + ".")
        paragraph = f"Part {number}. " + " ".join(sentences)
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
        if total >= characters:
            break
    return "\n\n".join(paragraphs)[:characters].rstrip() + "."


def squeezed(text: str) -> str:
    """Text without whitespace: message splits may move line breaks and spaces."""
    return "".join(text.split())


class AdapterContract:
    """The behaviours every adapter guarantees; subclasses provide the `harness` fixture."""

    async def test_short_reply_is_shown_whole(self, harness: PlatformHarness) -> None:
        harness.rig.tgi.enqueue(Script(reply="Paris is the capital of France."))
        await harness.say("What is the capital of France?")
        await harness.settle()
        assert [m.text for m in harness.shown(Place.PRIVATE)] == ["Paris is the capital of France."]

    async def test_ten_thousand_characters_arrive_whole_across_messages(
        self, harness: PlatformHarness
    ) -> None:
        reply = long_prose(10_000)
        assert len(reply) >= 10_000
        harness.rig.tgi.enqueue(Script(reply=reply))
        await harness.say("Tell me everything.", place=Place.GROUP)
        await harness.settle()
        shown = harness.shown(Place.GROUP)
        assert len(shown) >= 3
        limit = harness.capabilities.max_message_length
        assert all(harness.visible_length(m.text) <= limit for m in shown)
        assert squeezed("".join(m.text for m in shown)) == squeezed(reply)
        # Splits fall on paragraph breaks: every message but the last ends a sentence.
        assert all(m.text.endswith(".") for m in shown)

    async def test_flood_wait_mid_stream_still_ends_with_the_complete_text(
        self, harness: PlatformHarness
    ) -> None:
        reply = " ".join(f"word{n}" for n in range(40)) + "."
        release = asyncio.Event()
        harness.rig.tgi.enqueue(Script(reply=reply, hang=release, hang_after=5, token_delay=0.005))
        await harness.say("Count for me.", place=Place.GROUP)
        await harness.wait_for_text(Place.GROUP)
        harness.flood_wait_on_next_change(Place.GROUP, retry_after=7)
        release.set()
        await harness.settle()
        assert [m.text for m in harness.shown(Place.GROUP)] == [reply]
        changes = harness.changes(Place.GROUP)
        refused = [i for i, change in enumerate(changes) if change.refused]
        assert len(refused) == 1
        flood = changes[refused[0]]
        assert flood.text != reply  # it hit a partial text, in the middle of the stream
        later = changes[refused[0] + 1 :]
        assert later and all(change.at >= flood.at + 7 for change in later)
        assert later[-1].text == reply

    async def test_a_redelivered_event_gets_one_reply(self, harness: PlatformHarness) -> None:
        harness.rig.tgi.enqueue(Script(reply="Only once."), Script(reply="Twice?!"))
        said = await harness.say("Hello there", place=Place.GROUP)
        await harness.settle()
        await harness.redeliver(said)
        await harness.settle()
        assert [m.text for m in harness.shown(Place.GROUP)] == ["Only once."]
        assert len(harness.rig.tgi.generation_requests()) == 1

    async def test_group_message_not_addressed_to_the_bot_gets_no_reply(
        self, harness: PlatformHarness
    ) -> None:
        harness.rig.tgi.enqueue(Script(reply="Answer to the second."))
        await harness.say("Lunch at noon, everyone?", place=Place.GROUP, addressed=False)
        second = await harness.say("What is BLOOM?", place=Place.GROUP)
        await harness.settle()
        shown = harness.shown(Place.GROUP)
        assert [m.text for m in shown] == ["Answer to the second."]
        assert shown[0].replies_to in (None, second.message_id)
        assert len(harness.rig.tgi.generation_requests()) == 1

    async def test_thread_replies_land_in_the_same_thread(self, harness: PlatformHarness) -> None:
        harness.rig.tgi.enqueue(Script(reply="Inside the thread."))
        await harness.say("A question in a thread", place=Place.THREAD)
        await harness.settle()
        assert [m.text for m in harness.shown(Place.THREAD)] == ["Inside the thread."]
        assert harness.shown(Place.GROUP) == []

    async def test_text_refused_for_its_formatting_is_resent_plain(
        self, harness: PlatformHarness
    ) -> None:
        if not harness.refuse_formatting(Place.GROUP):
            pytest.skip("this platform never refuses formatting")
        harness.rig.tgi.enqueue(Script(reply="This is **bold** and `code`."))
        await harness.say("Format something", place=Place.GROUP)
        await harness.settle()
        assert [m.text for m in harness.shown(Place.GROUP)] == ["This is **bold** and `code`."]

    async def test_unchanged_text_is_never_sent_again(self, harness: PlatformHarness) -> None:
        harness.rig.tgi.enqueue(Script(reply=long_prose(600), token_delay=0.001))
        await harness.say("Stream please", place=Place.GROUP)
        await harness.settle()
        sent = [change for change in harness.changes(Place.GROUP) if not change.refused]
        assert len(sent) >= 2
        for earlier, later in itertools.pairwise(sent):
            assert (earlier.target, earlier.text, earlier.controls) != (
                later.target,
                later.text,
                later.controls,
            )

    async def test_message_changes_keep_to_the_chat_budget(self, harness: PlatformHarness) -> None:
        harness.rig.tgi.enqueue(Script(reply=long_prose(800), token_delay=0.001))
        await harness.say("Stream please", place=Place.GROUP)
        await harness.settle()
        interval = harness.capabilities.edit_interval(private=False)
        times = [change.at for change in harness.changes(Place.GROUP)]
        assert len(times) >= 2
        assert all(
            later - earlier >= interval - 1e-9 for earlier, later in itertools.pairwise(times)
        )

    async def test_waiting_indicator_comes_before_the_first_text(
        self, harness: PlatformHarness
    ) -> None:
        harness.rig.tgi.enqueue(Script(reply="Thought about it."))
        await harness.say("Think first", place=Place.GROUP)
        await harness.settle()
        assert harness.waiting_signals(Place.GROUP) >= 1
        assert harness.first_change_after_waiting_signal(Place.GROUP)

    async def test_feedback_on_a_reply_is_stored(self, harness: PlatformHarness) -> None:
        harness.rig.tgi.enqueue(Script(reply="Rate me."))
        await harness.say("Say something", place=Place.GROUP)
        await harness.settle()
        (reply,) = harness.shown(Place.GROUP)
        await harness.rate(Place.GROUP, reply, -1)
        await harness.settle()
        conversation = harness.conversation(Place.GROUP)
        (turn,) = await harness.rig.store.history(conversation)
        assert await harness.rig.store.feedback(conversation, turn.reply_id) == {
            harness.user_id: -1
        }

    async def test_mentions_in_model_output_reach_no_one(self, harness: PlatformHarness) -> None:
        reply = "@everyone look! <!channel> <!here> <@U024BE7LH> <@&42> and @here."
        harness.rig.tgi.enqueue(Script(reply=reply))
        await harness.say("Call everyone", place=Place.GROUP)
        await harness.settle()
        (shown,) = harness.shown(Place.GROUP)
        for mention in ("@everyone", "@here", "<!channel>", "<!here>", "<@U024BE7LH>", "<@&42>"):
            assert mention not in shown.text
        assert squeezed(shown.text.replace(WORD_JOINER, "")) == squeezed(reply)
        for change in harness.changes(Place.GROUP):
            assert "@everyone look" not in change.text and "<!channel>" not in change.text

    async def test_a_reply_whose_turn_cannot_be_recorded_is_delivered_whole_with_a_notice(
        self, harness: PlatformHarness
    ) -> None:
        release = asyncio.Event()
        partial = "The first part is written. " + " ".join(f"more{n}" for n in range(30))
        harness.rig.tgi.enqueue(
            Script(reply=partial, hang=release, hang_after=8, token_delay=0.001),
            Script(reply="A later answer."),
        )
        await harness.say("Write something long", place=Place.GROUP)
        await harness.wait_for_text(Place.GROUP)
        # Recording the turn will fail in the store (as when Redis breaks mid-reply): the
        # dialog still finishes the reply and says the exchange was not saved.
        history_key = StoreKeys(harness.rig.namespace).history(harness.conversation(Place.GROUP))
        client = aioredis.Redis.from_url(harness.rig.redis_url)
        try:
            await client.set(history_key, "not a list")
            release.set()
            await harness.settle()
            await client.delete(history_key)
        finally:
            await client.aclose()
        (final,) = harness.shown(Place.GROUP)
        assert notice("history_not_saved", "en") in final.text.splitlines()[-1]
        assert squeezed(final.text).startswith(squeezed(partial))
        await harness.say("And now?", place=Place.GROUP)
        await harness.settle()
        assert [m.text for m in harness.shown(Place.GROUP)][1:] == ["A later answer."]
