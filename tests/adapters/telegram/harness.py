"""The Telegram harness for the adapter contract: FakeTelegramAPI, TelegramAdapter, dialog rig."""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from typing import Any

from adapters.telegram.adapter import TELEGRAM_CAPABILITIES, TelegramAdapter
from adapters.telegram.webhook import WebhookConfig
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
from tests.fakes.telegram_api import ApiCall, ApiError, ChatMessage, FakeTelegramAPI

USER: dict[str, Any] = {
    "id": 111222333,
    "is_bot": False,
    "first_name": "Alice",
    "username": "alice_m",
    "language_code": "en",
}
PRIVATE_CHAT_ID = 111222333
PRIVATE_CHAT: dict[str, Any] = {"id": PRIVATE_CHAT_ID, "first_name": "Alice", "type": "private"}
# One forum supergroup: its General topic is the GROUP place, topic 77 the THREAD place.
FORUM_CHAT_ID = -1001500000001
FORUM_CHAT: dict[str, Any] = {
    "id": FORUM_CHAT_ID,
    "title": "BLOOM lab",
    "type": "supergroup",
    "is_forum": True,
}
TOPIC_ID = 77
_CHANGES = ("sendMessage", "editMessageText", "sendMessageDraft")


class TelegramHarness(PlatformHarness):
    """Drives a TelegramAdapter (long polling) against the fake Bot API."""

    def __init__(
        self,
        rig: DialogRig,
        api: FakeTelegramAPI,
        clock: VirtualClock,
        *,
        webhook: WebhookConfig | None = None,
        use_drafts: bool = True,
    ) -> None:
        super().__init__(rig, TELEGRAM_CAPABILITIES, clock)
        self.api = api
        self.webhook = webhook
        self.use_drafts = use_drafts
        self.adapter: TelegramAdapter | None = None
        self.updates: dict[str, Mapping[str, Any]] = {}
        self.votes: list[Mapping[str, Any]] = []  # feedback presses fed, in order
        self._message_ids = itertools.count(100)

    # ----- running the adapter ---------------------------------------------------------------

    async def start(self) -> TelegramAdapter:
        if self.adapter is None:
            adapter = TelegramAdapter(
                self.rig.dialog,
                token=self.api.token,
                api_url=self.api.url,
                webhook=self.webhook,
                clock=self.clock,
                use_drafts=self.use_drafts,
                poll_timeout=5.0,
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
        if self.webhook is None:
            await self.api.wait_until(self.api.all_received)
        # Stopping lets every update already received finish its reply.
        await self.close()

    # ----- what users do ---------------------------------------------------------------------

    def _chat(self, place: Place) -> Mapping[str, Any]:
        return PRIVATE_CHAT if place is Place.PRIVATE else FORUM_CHAT

    def message_update(self, text: str, place: Place, addressed: bool) -> dict[str, Any]:
        message_id = next(self._message_ids)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": USER,
            "chat": dict(self._chat(place)),
            "date": int(time.time()),
            "text": text,
        }
        if place is not Place.PRIVATE and addressed:
            mention = f"@{self.api.bot_username}"
            message["text"] = f"{mention} {text}"
            message["entities"] = [{"type": "mention", "offset": 0, "length": len(mention)}]
        if place is Place.THREAD:
            message["message_thread_id"] = TOPIC_ID
            message["is_topic_message"] = True
            message["reply_to_message"] = {
                "message_id": TOPIC_ID,
                "message_thread_id": TOPIC_ID,
                "is_topic_message": True,
                "from": USER,
                "chat": dict(FORUM_CHAT),
                "date": int(time.time()) - 3600,
                "forum_topic_created": {"name": "Questions", "icon_color": 7322096},
            }
        return {"message": message}

    async def say(self, text: str, *, place: Place = Place.PRIVATE, addressed: bool = True) -> Said:
        await self.start()
        update = self.message_update(text, place, addressed)
        (update_id,) = self.api.feed(update)
        self.updates[str(update_id)] = {**update, "update_id": update_id}
        return Said(place, str(update_id), str(update["message"]["message_id"]))

    async def redeliver(self, said: Said) -> None:
        # Telegram sends an update again when the bot stopped before confirming it:
        # a new process receives it, and only the store remembers it was answered.
        await self.close()
        await self.start()
        self.api.feed(self.updates[said.event_id])

    async def rate(self, place: Place, shown: Shown, value: int) -> None:
        await self.start()
        message = next(m for m in self.api.messages if str(m.message_id) == shown.message_id)
        assert message.reply_markup is not None, "the reply has no feedback buttons"
        buttons = message.reply_markup["inline_keyboard"][0]
        label = "👍" if value > 0 else "👎"
        data = next(button["callback_data"] for button in buttons if button["text"] == label)
        payload: dict[str, Any] = {
            "message_id": message.message_id,
            "chat": dict(self._chat(place)),
            "date": int(time.time()),
            "text": message.text,
        }
        if message.thread_id is not None:
            payload |= {"message_thread_id": message.thread_id, "is_topic_message": True}
        vote = {
            "callback_query": {
                "id": f"cq-{message.message_id}-{value}",
                "from": USER,
                "chat_instance": "-4242",
                "data": data,
                "message": payload,
            }
        }
        (update_id,) = self.api.feed(vote)
        self.votes.append({**vote, "update_id": update_id})

    # ----- what users see --------------------------------------------------------------------

    def _where(self, place: Place) -> tuple[int, int | None]:
        chat_id = int(self._chat(place)["id"])
        return chat_id, TOPIC_ID if place is Place.THREAD else None

    def conversation(self, place: Place) -> ConversationRef:
        chat_id, thread = self._where(place)
        return ConversationRef(
            "telegram", None, str(chat_id), None if thread is None else str(thread)
        )

    @property
    def user_id(self) -> str:
        return str(USER["id"])

    def _message(self, chat_id: int, message_id: int) -> ChatMessage | None:
        for message in self.api.messages:
            if (message.chat_id, message.message_id) == (chat_id, message_id):
                return message
        return None

    def _in_place(self, call: ApiCall, place: Place) -> bool:
        chat_id, thread = self._where(place)
        if int(call.params.get("chat_id", 0)) != chat_id:
            return False
        if call.method == "editMessageText":
            message = self._message(chat_id, int(call.params["message_id"]))
            return message is not None and message.thread_id == thread
        return call.params.get("message_thread_id") == thread

    def shown(self, place: Place) -> list[Shown]:
        chat_id, thread = self._where(place)
        return [
            Shown(str(m.message_id), m.text, None if m.reply_to is None else str(m.reply_to))
            for m in self.api.visible(chat_id, thread)
        ]

    async def wait_for_text(self, place: Place) -> None:
        chat_id, _ = self._where(place)
        await self.api.wait_until(
            lambda: (
                bool(self.shown(place))
                or any(chat == chat_id and text for (chat, _), text in self.api.drafts.items())
            )
        )

    def changes(self, place: Place) -> list[Change]:
        found = []
        for call in self.api.calls:
            if call.method not in _CHANGES or not self._in_place(call, place):
                continue
            if call.method == "sendMessageDraft":
                target = f"preview:{call.params['draft_id']}"
            elif call.method == "editMessageText":
                target = str(call.params["message_id"])
            else:
                target = "new" if call.result is None else str(call.result["message_id"])
            found.append(
                Change(
                    target=target,
                    text=str(call.params.get("text", "")),
                    at=call.at,
                    refused=call.failed is not None,
                    controls=bool(call.params.get("reply_markup")),
                )
            )
        return found

    def waiting_signals(self, place: Place) -> int:
        return sum(
            1
            for call in self.api.calls_to("sendChatAction")
            if self._in_place(call, place) and call.params.get("action") == "typing"
        )

    def first_change_after_waiting_signal(self, place: Place) -> bool:
        relevant = [
            call.method
            for call in self.api.calls
            if (call.method in _CHANGES or call.method == "sendChatAction")
            and self._in_place(call, place)
        ]
        return bool(relevant) and relevant[0] == "sendChatAction"

    # ----- what the platform does ------------------------------------------------------------

    def flood_wait_on_next_change(self, place: Place, retry_after: int) -> None:
        chat_id, _ = self._where(place)
        method = (
            "sendMessageDraft" if place is Place.PRIVATE and self.use_drafts else "editMessageText"
        )
        self.api.fail(
            method,
            ApiError.flood_wait(retry_after),
            when=lambda params: int(params.get("chat_id", 0)) == chat_id,
        )

    def refuse_formatting(self, place: Place) -> bool:
        chat_id, _ = self._where(place)
        self.api.refuse_entities_in.add(chat_id)
        return True
