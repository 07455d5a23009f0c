"""The Slack harness for the adapter contract: FakeSlackAPI, the real Bolt app, the dialog rig.

Events reach the app the way Slack sends them: over the fake's Socket Mode websocket, or
as signed HTTP requests to the app's own endpoint. A post that mentions the bot in a
channel is delivered twice, as `app_mention` and as `message`, as Slack does for an app
subscribed to both.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from adapters.slack.adapter import SLACK_CAPABILITIES, HttpConfig, SlackAdapter
from core.messages import ConversationRef, PlaceKind
from tests.adapters.contract import (
    Change,
    DialogRig,
    Place,
    PlatformHarness,
    Said,
    Shown,
    VirtualClock,
)
from tests.fakes.slack_api import ApiCall, ApiError, FakeSlackAPI
from tests.fakes.slack_messages import SlackMessage, visible_text

USER = "U0ALICE42"
DM = "D0ALICEDM"
CHANNEL = "C0GENERAL"
THREAD_ROOT = "1789999999.000100"  # an earlier post of the user's that opened a thread
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
_CHANGES = (
    "chat.postMessage",
    "chat.update",
    "chat.startStream",
    "chat.appendStream",
    "chat.stopStream",
)


def signed_headers(
    body: str, *, timestamp: int | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    """The headers Slack sends with an HTTP request: timestamp and v0 signature."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


class SlackHarness(PlatformHarness):
    """Drives a SlackAdapter (Socket Mode, or HTTP when `http` is True) against the fake."""

    def __init__(
        self,
        rig: DialogRig,
        api: FakeSlackAPI,
        clock: VirtualClock,
        *,
        http: bool = False,
        streaming: bool = True,
    ) -> None:
        super().__init__(rig, SLACK_CAPABILITIES, clock)
        self.api = api
        self.http = http
        self.streaming = streaming
        self.adapter: SlackAdapter | None = None
        self.posts: dict[str, list[dict[str, Any]]] = {}
        self.http_statuses: list[int] = []
        self._ts = itertools.count(1)
        self._event_ids = itertools.count(1)
        self._last_group_ts: str | None = None

    # ----- running the adapter ---------------------------------------------------------------

    async def start(self) -> SlackAdapter:
        if self.adapter is None:
            adapter = SlackAdapter(
                self.rig.dialog,
                bot_token=self.api.bot_token,
                app_token=None if self.http else self.api.app_token,
                http=HttpConfig(port=0, signing_secret=SIGNING_SECRET, listen="127.0.0.1")
                if self.http
                else None,
                api_url=self.api.base_url,
                clock=self.clock,
                streaming=self.streaming,
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
        if not self.http:
            await self.api.wait_until(self.api.all_acked)
        # Stopping lets every event already acknowledged finish its reply.
        await self.close()

    async def deliver(
        self, body: Mapping[str, Any], *, kind: str = "events_api", retry: int = 0
    ) -> int:
        """Send one payload to the app; returns the HTTP status (200 in Socket Mode)."""
        adapter = await self.start()
        if not self.http:
            self.api.send(body, kind=kind, retry_attempt=retry)
            return 200
        if kind == "events_api":
            content = json.dumps(body)
            content_type = "application/json"
        else:
            content = urlencode({"payload": json.dumps(body)} if kind == "interactive" else body)
            content_type = "application/x-www-form-urlencoded"
        headers = {"Content-Type": content_type, **signed_headers(content)}
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        async with (
            aiohttp.ClientSession() as session,
            session.post(adapter.http_url, data=content.encode(), headers=headers) as response,
        ):
            await response.read()
            self.http_statuses.append(response.status)
            return response.status

    # ----- what users do ---------------------------------------------------------------------

    def _new_ts(self) -> str:
        return f"1790001000.{next(self._ts):06d}"

    def envelope(self, event: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "token": "verification-token-unused",
            "team_id": self.api.team_id,
            "api_app_id": "A0BLOOM01",
            "event": dict(event),
            "type": "event_callback",
            "event_id": f"Ev{next(self._event_ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.api.team_id,
                    "user_id": self.api.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    def post_events(
        self, text: str, place: Place, addressed: bool, *, ts: str | None = None
    ) -> list[dict[str, Any]]:
        """The envelopes Slack sends for one post by the user."""
        ts = ts or self._new_ts()
        base: dict[str, Any] = {
            "user": USER,
            "ts": ts,
            "team": self.api.team_id,
            "event_ts": ts,
            "client_msg_id": f"msg-{ts}",
        }
        if place is Place.PRIVATE:
            event = {**base, "type": "message", "text": text, "channel": DM, "channel_type": "im"}
            return [self.envelope(event)]
        mention = f"<@{self.api.bot_user_id}> " if addressed else ""
        message = {
            **base,
            "type": "message",
            "text": mention + text,
            "channel": CHANNEL,
            "channel_type": "channel",
        }
        if place is Place.THREAD:
            message |= {"thread_ts": THREAD_ROOT, "parent_user_id": USER}
        events = [self.envelope(message)]
        if addressed:
            app_mention = {k: v for k, v in message.items() if k != "channel_type"}
            events.insert(0, self.envelope({**app_mention, "type": "app_mention"}))
        return events

    async def say(self, text: str, *, place: Place = Place.PRIVATE, addressed: bool = True) -> Said:
        envelopes = self.post_events(text, place, addressed)
        ts = envelopes[0]["event"]["ts"]
        self.posts[ts] = envelopes
        if place is Place.GROUP and addressed:
            self._last_group_ts = ts
        for envelope in envelopes:
            await self.deliver(envelope)
        return Said(place, ts, ts)

    async def redeliver(self, said: Said) -> None:
        # Slack retries an event it thinks was not acknowledged, also to a restarted app.
        await self.close()
        for envelope in self.posts[said.event_id]:
            await self.deliver(envelope, retry=1)

    def action_payload(self, message: SlackMessage, label: str) -> dict[str, Any]:
        """The block_actions payload of pressing the button labelled `label` under `message`."""
        action_id, value = next(
            (action_id, value)
            for text, action_id, value in message.action_values()
            if text == label
        )
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": False,
        }
        payload_message: dict[str, Any] = {
            "type": "message",
            "user": self.api.bot_user_id,
            "bot_id": self.api.bot_id,
            "ts": message.ts,
            "text": message.markup,
        }
        if message.thread_ts:
            container["thread_ts"] = message.thread_ts
            payload_message["thread_ts"] = message.thread_ts
        return {
            "type": "block_actions",
            "user": {"id": USER, "username": "alice", "name": "alice", "team_id": self.api.team_id},
            "api_app_id": "A0BLOOM01",
            "token": "verification-token-unused",
            "container": container,
            "trigger_id": f"trigger-{message.ts}-{label}",
            "team": {"id": self.api.team_id, "domain": "bloom-lab"},
            "channel": {"id": message.channel, "name": "general"},
            "message": payload_message,
            "response_url": self.api.response_url(),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "feedback",
                    "text": {"type": "plain_text", "text": label, "emoji": True},
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }

    async def rate(self, place: Place, shown: Shown, value: int) -> None:
        message = self.api.find(self._channel(place), shown.message_id)
        assert message is not None and message.action_values(), "the reply has no feedback buttons"
        payload = self.action_payload(message, "👍" if value > 0 else "👎")
        await self.deliver(payload, kind="interactive")

    # ----- what users see --------------------------------------------------------------------

    @staticmethod
    def _channel(place: Place) -> str:
        return DM if place is Place.PRIVATE else CHANNEL

    def _in_place(self, channel: str, thread_ts: str | None, place: Place) -> bool:
        if channel != self._channel(place):
            return False
        if place is Place.PRIVATE:
            return thread_ts is None
        if place is Place.THREAD:
            return thread_ts == THREAD_ROOT
        return thread_ts != THREAD_ROOT

    def conversation(self, place: Place) -> ConversationRef:
        team = self.api.team_id
        if place is Place.PRIVATE:
            return ConversationRef("slack", team, DM, None, PlaceKind.PRIVATE)
        thread = THREAD_ROOT if place is Place.THREAD else self._last_group_ts
        assert thread is not None, "nothing was said in the group yet"
        return ConversationRef("slack", team, CHANNEL, thread, PlaceKind.THREAD)

    @property
    def user_id(self) -> str:
        return USER

    def shown(self, place: Place) -> list[Shown]:
        return [
            Shown(m.ts, m.text, m.thread_ts)
            for m in self.api.visible(self._channel(place))
            if self._in_place(m.channel, m.thread_ts, place)
        ]

    async def wait_for_text(self, place: Place) -> None:
        await self.api.wait_until(lambda: any(m.text.strip() for m in self._messages(place)))

    def _messages(self, place: Place) -> list[SlackMessage]:
        return [
            m
            for m in self.api.visible(self._channel(place))
            if self._in_place(m.channel, m.thread_ts, place)
        ]

    def _call_thread(self, call: ApiCall) -> tuple[str, str | None]:
        params = call.params
        channel = str(params.get("channel") or params.get("channel_id") or "")
        if call.method in ("chat.postMessage", "chat.startStream", "assistant.threads.setStatus"):
            thread = params.get("thread_ts")
            return channel, None if thread is None else str(thread)
        message = self.api.find(channel, str(params.get("ts", "")))
        return channel, None if message is None else message.thread_ts

    def changes(self, place: Place) -> list[Change]:
        """Every message-changing call in `place`, with the text the message showed after it."""
        texts: dict[str, str] = {}
        found: list[Change] = []
        for call in self.api.calls:
            if call.method not in _CHANGES or not self._in_place(*self._call_thread(call), place):
                continue
            params = call.params
            ts = str(call.result["ts"]) if call.result else str(params.get("ts", "new"))
            if call.method in ("chat.postMessage", "chat.update"):
                blocks = params.get("blocks") or []
                markdown = [b["text"] for b in blocks if b.get("type") == "markdown"]
                text = "\n".join(markdown) if markdown else str(params.get("text", ""))
            else:
                chunks = "".join(c.get("text", "") for c in params.get("chunks") or [])
                text = texts.get(ts, "") + str(params.get("markdown_text") or "") + chunks
            controls = any(b.get("type") == "actions" for b in params.get("blocks") or [])
            if call.method == "chat.stopStream" and text == texts.get(ts) and not controls:
                continue  # ending a stream changes nothing a user sees
            if call.failed is None:
                texts[ts] = text
            found.append(
                Change(
                    target=ts,
                    text=visible_text(text),
                    at=call.at,
                    refused=call.failed is not None,
                    controls=controls,
                )
            )
        return found

    def _statuses(self, place: Place) -> list[ApiCall]:
        return [
            call
            for call in self.api.calls_to("assistant.threads.setStatus")
            if call.failed is None and self._in_place(*self._call_thread(call), place)
        ]

    def waiting_signals(self, place: Place) -> int:
        return len(self._statuses(place))

    def first_change_after_waiting_signal(self, place: Place) -> bool:
        relevant = [
            call.method
            for call in self.api.calls
            if (call.method in _CHANGES or call.method == "assistant.threads.setStatus")
            and self._in_place(*self._call_thread(call), place)
        ]
        return bool(relevant) and relevant[0] == "assistant.threads.setStatus"

    # ----- what the platform does ------------------------------------------------------------

    def flood_wait_on_next_change(self, place: Place, retry_after: int) -> None:
        streaming = self.streaming and place is not Place.PRIVATE
        method = "chat.appendStream" if streaming else "chat.update"
        channel = self._channel(place)
        self.api.fail(
            method,
            ApiError.ratelimited(retry_after),
            when=lambda params: params.get("channel") == channel,
        )

    def refuse_formatting(self, place: Place) -> bool:
        return False  # Slack renders Markdown itself and never refuses it
