"""The Discord harness for the adapter contract: fake REST API and gateway, real discord.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.options import DISCORD_CAPABILITIES, DiscordOptions
from adapters.discord.routing import DiscordEndpoints
from core.messages import ConversationRef
from tests.adapters.contract import (
    Change,
    DialogRig,
    Place,
    PlatformHarness,
    Said,
    Shown,
    VirtualClock,
    dialog_rig,
)
from tests.fakes.discord_api import FakeDiscordAPI
from tests.fakes.discord_gateway import FakeDiscordGateway
from tests.fakes.discord_model import DiscordWorld
from tests.fakes.discord_rest import ApiCall, ApiError

_CHANGES = ("create_message", "edit_message", "edit_original", "followup", "edit_followup")


class DiscordHarness(PlatformHarness):
    """Drives a DiscordAdapter against the fakes, reached only through the two URL settings."""

    def __init__(
        self,
        rig: DialogRig,
        api: FakeDiscordAPI,
        gateway: FakeDiscordGateway,
        clock: VirtualClock,
        *,
        options: DiscordOptions | None = None,
    ) -> None:
        super().__init__(rig, DISCORD_CAPABILITIES, clock)
        self.api = api
        self.gateway = gateway
        self.world = api.world
        self.options = options or DiscordOptions(guild_ready_timeout=0.05)
        self.adapter: DiscordAdapter | None = None
        self.said: dict[str, dict[str, Any]] = {}

    # ----- running the adapter ---------------------------------------------------------------

    @property
    def endpoints(self) -> DiscordEndpoints:
        return DiscordEndpoints(api_url=self.api.api_url, gateway_url=self.gateway.url)

    async def start(self) -> DiscordAdapter:
        if self.adapter is None:
            adapter = DiscordAdapter(
                self.rig.dialog,
                token=self.world.token,
                endpoints=self.endpoints,
                options=self.options,
                clock=self.clock,
            )
            await adapter.start()
            self.adapter = adapter
        return self.adapter

    async def close(self) -> None:
        if self.adapter is not None:
            adapter, self.adapter = self.adapter, None
            await adapter.stop()

    async def settle(self) -> None:
        if self.adapter is None:
            return
        await self.gateway.sync()  # discord.py has read every event sent so far
        # Stopping lets every event already read finish its reply.
        await self.close()

    # ----- what users do ---------------------------------------------------------------------

    def channel_of(self, place: Place) -> str:
        if place is Place.PRIVATE:
            return self.world.dm_channel_id
        return self.world.thread_id if place is Place.THREAD else self.world.channel_id

    async def send(self, payload: dict[str, Any]) -> Said:
        """Deliver a MESSAGE_CREATE `d` the world built."""
        await self.start()
        self.said[str(payload["id"])] = payload
        await self.gateway.dispatch("MESSAGE_CREATE", payload)
        channel = str(payload["channel_id"])
        place = next((p for p in Place if self.channel_of(p) == channel), Place.GROUP)
        return Said(place, str(payload["id"]), str(payload["id"]))

    async def say(self, text: str, *, place: Place = Place.PRIVATE, addressed: bool = True) -> Said:
        await self.start()  # the text Discord includes depends on the intents identified with
        mention = addressed and place is not Place.PRIVATE
        return await self.send(
            self.world.user_message(self.channel_of(place), text, mention_bot=mention)
        )

    async def redeliver(self, said: Said) -> None:
        # After a restart, a message may come again (a resumed session replays events):
        # a new process receives it, and only the store remembers it was answered.
        await self.close()
        await self.start()
        await self.gateway.dispatch("MESSAGE_CREATE", self.said[said.event_id])

    async def command(
        self, place: Place, name: str, option: str | None = None, *, locale: str = "en-US"
    ) -> dict[str, Any]:
        """A user runs a slash command; returns the INTERACTION_CREATE `d`."""
        await self.start()
        registered = next(c for c in self.api.commands if c["name"] == name)
        data: dict[str, Any] = {"id": registered["id"], "name": name, "type": 1}
        if option is not None:
            option_name = registered["options"][0]["name"]
            data["options"] = [{"name": option_name, "type": 3, "value": option}]
        payload = self.world.interaction(self.channel_of(place), kind=2, data=data, locale=locale)
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def rate(self, place: Place, shown: Shown, value: int) -> None:
        await self.start()
        message = self.api.message(shown.message_id)
        assert message.components, "the reply has no feedback buttons"
        buttons = message.components[0]["components"]
        label = "👍" if value > 0 else "👎"
        custom_id = next(b["custom_id"] for b in buttons if b["emoji"]["name"] == label)
        payload = self.world.interaction(
            message.channel_id,
            kind=3,
            data={"custom_id": custom_id, "component_type": 2},
            message=self.api.message_payload(message),
        )
        await self.gateway.dispatch("INTERACTION_CREATE", payload)

    # ----- what users see --------------------------------------------------------------------

    def conversation(self, place: Place) -> ConversationRef:
        if place is Place.PRIVATE:
            return ConversationRef("discord", None, self.world.dm_channel_id)
        if place is Place.THREAD:
            return ConversationRef(
                "discord", self.world.guild_id, self.world.channel_id, self.world.thread_id
            )
        return ConversationRef("discord", self.world.guild_id, self.world.channel_id)

    @property
    def user_id(self) -> str:
        return str(self.world.user["id"])

    def shown(self, place: Place) -> list[Shown]:
        return [
            Shown(m.message_id, m.content, m.reference)
            for m in self.api.visible(self.channel_of(place))
        ]

    async def wait_for_text(self, place: Place) -> None:
        await self.api.wait_until(lambda: any(s.text for s in self.shown(place)))

    def _channel_of_call(self, call: ApiCall) -> str | None:
        if "_channel" in call.params:
            return str(call.params["_channel"])
        if call.result is not None and "channel_id" in call.result:
            return str(call.result["channel_id"])
        return None

    def changes(self, place: Place) -> list[Change]:
        channel = self.channel_of(place)
        found = []
        for call in self.api.calls:
            if call.route not in _CHANGES or self._channel_of_call(call) != channel:
                continue
            if call.route in ("create_message", "followup"):
                target = "new" if call.result is None else str(call.result["id"])
            else:
                target = str(call.params.get("_message") or call.result["id"])
            found.append(
                Change(
                    target=target,
                    text=str(call.params.get("content", "")),
                    at=call.at,
                    refused=call.status >= 300,
                    controls=bool(call.params.get("components")),
                )
            )
        return found

    def waiting_signals(self, place: Place) -> int:
        channel = self.channel_of(place)
        return sum(1 for call in self.api.calls_to("typing") if call.params["_channel"] == channel)

    def first_change_after_waiting_signal(self, place: Place) -> bool:
        channel = self.channel_of(place)
        relevant = [
            call.route
            for call in self.api.calls
            if (call.route in _CHANGES or call.route == "typing")
            and self._channel_of_call(call) == channel
        ]
        return bool(relevant) and relevant[0] == "typing"

    # ----- what the platform does ------------------------------------------------------------

    def flood_wait_on_next_change(self, place: Place, retry_after: int) -> None:
        channel = self.channel_of(place)
        self.api.fail(
            "edit_message",
            ApiError.rate_limited(float(retry_after)),
            when=lambda params: str(params["_channel"]) == channel,
        )

    def refuse_formatting(self, place: Place) -> bool:
        return False  # Discord renders Markdown itself and never refuses it


@asynccontextmanager
async def discord_harness(
    redis_url: str, namespace: str, *, options: DiscordOptions | None = None
) -> AsyncIterator[DiscordHarness]:
    """The dialog rig, both Discord fakes on the harness's virtual clock, and the harness."""
    clock = VirtualClock()
    world = DiscordWorld()
    async with AsyncExitStack() as stack:
        rig = await stack.enter_async_context(dialog_rig(redis_url, namespace))
        api = await stack.enter_async_context(FakeDiscordAPI(world, clock=clock.now))
        gateway = await stack.enter_async_context(FakeDiscordGateway(world))
        harness = DiscordHarness(rig, api, gateway, clock, options=options)
        try:
            yield harness
        finally:
            await harness.close()
