"""The loopback platform's harness for the adapter contract."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from core.messages import ConversationRef
from tests.adapters.contract import (
    Change,
    DialogRig,
    Place,
    PlatformHarness,
    Said,
    Shown,
    VirtualClock,
)
from tests.adapters.loopback.adapter import (
    BOT_MENTION,
    LOOPBACK_CAPABILITIES,
    PLATFORM,
    WORKSPACE,
    LoopbackAdapter,
)
from tests.fakes.loopback_chat import ChatApiError, LoopbackChat

USER_ID = "U1"
_PLACES: dict[Place, tuple[str, str, str | None]] = {
    Place.PRIVATE: ("D1", "dm", None),
    Place.GROUP: ("C1", "channel", None),
    Place.THREAD: ("C1", "channel", "T1"),
}
_CHANGES = ("start_stream", "append_stream", "stop_stream", "post", "update")


class LoopbackHarness(PlatformHarness):
    """Events go straight to the adapter's callback; the platform records what users see."""

    def __init__(self, rig: DialogRig, clock: VirtualClock) -> None:
        super().__init__(rig, LOOPBACK_CAPABILITIES, clock)
        self.chat = LoopbackChat(clock=clock.now)
        self.adapter: LoopbackAdapter | None = None
        self.events: dict[str, Mapping[str, Any]] = {}
        self._ids = itertools.count(1)

    async def start(self) -> LoopbackAdapter:
        if self.adapter is None:
            adapter = LoopbackAdapter(self.rig.dialog, self.chat, clock=self.clock)
            await adapter.start()
            self.adapter = adapter
        return self.adapter

    async def close(self) -> None:
        if self.adapter is not None:
            adapter, self.adapter = self.adapter, None
            await adapter.stop()

    async def settle(self) -> None:
        await self.close()

    async def say(self, text: str, *, place: Place = Place.PRIVATE, addressed: bool = True) -> Said:
        adapter = await self.start()
        channel, channel_type, thread = _PLACES[place]
        number = next(self._ids)
        event_id, ts = f"Ev{number}", str(number)
        event: dict[str, Any] = {
            "type": "message",
            "id": event_id,
            "ts": ts,
            "channel": channel,
            "channel_type": channel_type,
            "thread": thread,
            "user": {"id": USER_ID, "locale": "en"},
            "text": f"{BOT_MENTION} {text}" if addressed and place is not Place.PRIVATE else text,
        }
        self.events[event_id] = event
        await adapter.on_event(event)
        return Said(place, event_id, ts)

    async def redeliver(self, said: Said) -> None:
        await self.close()  # a new process gets the event again
        await (await self.start()).on_event(self.events[said.event_id])

    async def rate(self, place: Place, shown: Shown, value: int) -> None:
        adapter = await self.start()
        message = next(m for m in self.chat.messages if m.message_id == shown.message_id)
        assert message.controls, "the reply has no feedback controls"
        channel, channel_type, thread = _PLACES[place]
        payload = message.controls[0 if value > 0 else 1]
        await adapter.on_event(
            {
                "type": "vote",
                "id": f"vote-{next(self._ids)}",
                "channel": channel,
                "channel_type": channel_type,
                "thread": thread,
                "user": {"id": USER_ID},
                "payload": payload,
            }
        )

    def conversation(self, place: Place) -> ConversationRef:
        channel, _, thread = _PLACES[place]
        return ConversationRef(PLATFORM, WORKSPACE, channel, thread)

    @property
    def user_id(self) -> str:
        return USER_ID

    def shown(self, place: Place) -> list[Shown]:
        channel, _, thread = _PLACES[place]
        return [Shown(m.message_id, m.text) for m in self.chat.visible(channel, thread)]

    async def wait_for_text(self, place: Place) -> None:
        await self.chat.wait_until(lambda: any(m.text for m in self.shown(place)))

    def _in_place(self, channel: str, thread: str | None, place: Place) -> bool:
        expected_channel, _, expected_thread = _PLACES[place]
        return (channel, thread) == (expected_channel, expected_thread)

    def changes(self, place: Place) -> list[Change]:
        found: list[Change] = []
        for call in self.chat.calls:
            if call.method not in _CHANGES or not self._in_place(call.channel, call.thread, place):
                continue
            if call.method == "stop_stream" and not call.controls:
                continue  # ending a stream without controls changes nothing a user sees
            found.append(
                Change(
                    target=call.message_id,
                    text=call.text,
                    at=call.at,
                    refused=call.failed is not None,
                    controls=bool(call.controls),
                )
            )
        return found

    def waiting_signals(self, place: Place) -> int:
        return sum(
            1
            for call in self.chat.calls
            if call.method == "set_status" and self._in_place(call.channel, call.thread, place)
        )

    def first_change_after_waiting_signal(self, place: Place) -> bool:
        relevant = [
            call.method
            for call in self.chat.calls
            if (call.method in _CHANGES or call.method == "set_status")
            and self._in_place(call.channel, call.thread, place)
        ]
        return bool(relevant) and relevant[0] == "set_status"

    def flood_wait_on_next_change(self, place: Place, retry_after: int) -> None:
        channel, _, _ = _PLACES[place]
        self.chat.failures[channel] = ChatApiError("ratelimited", retry_after=retry_after)

    def refuse_formatting(self, place: Place) -> bool:
        return False  # the platform renders Markdown itself and never refuses it
