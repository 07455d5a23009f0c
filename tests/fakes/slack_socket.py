"""A fake Slack Socket Mode endpoint: `hello`, then envelopes, and the app's `envelope_id` acks.

Slack's protocol: the app opens the `wss://` URL `apps.connections.open` gave it; Slack sends
`{"type": "hello"}`, then one envelope per event (`envelope_id`, `type` — `events_api`,
`slash_commands` or `interactive` — `payload`, and for events `retry_attempt` and
`retry_reason`); the app answers each with `{"envelope_id": ...}` (plus a `payload` where
Slack accepts a response). Envelopes sent while no app is connected wait for the next one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web


@dataclass(frozen=True)
class Envelope:
    """A Socket Mode envelope the fake sent, and whether the app acknowledged it."""

    envelope_id: str
    body: Mapping[str, Any]


class FakeSocketMode:
    """The websocket side of the fake Slack: mount `connect` on a GET route."""

    def __init__(self, *, on_ack: Callable[[], None]) -> None:
        self.envelopes: list[Envelope] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self._on_ack = on_ack
        self._outbox: asyncio.Queue[Envelope] = asyncio.Queue()
        self._sockets: set[web.WebSocketResponse] = set()

    def send(
        self,
        body: Mapping[str, Any],
        *,
        kind: str = "events_api",
        retry_attempt: int = 0,
    ) -> Envelope:
        """Deliver a payload over Socket Mode (queued until the app is connected)."""
        envelope = Envelope(uuid.uuid4().hex, body)
        message: dict[str, Any] = {
            "envelope_id": envelope.envelope_id,
            "type": kind,
            "accepts_response_payload": kind != "events_api",
            "payload": body,
        }
        if kind == "events_api":
            message["retry_attempt"] = retry_attempt
            message["retry_reason"] = "timeout" if retry_attempt else ""
        self.envelopes.append(envelope)
        self._outbox.put_nowait(dataclasses.replace(envelope, body=message))
        return envelope

    def all_acked(self) -> bool:
        """Whether the app acknowledged every envelope sent so far."""
        return all(envelope.envelope_id in self.acks for envelope in self.envelopes)

    async def connect(self, request: web.Request) -> web.WebSocketResponse:
        """One app connection: hello, then envelopes as they are queued; acks recorded."""
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.add(socket)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                "connection_info": {"app_id": "A0BLOOM01"},
            }
        )
        sender = asyncio.create_task(self._send_envelopes(socket))
        try:
            async for frame in socket:
                if frame.type is not WSMsgType.TEXT:
                    continue
                ack = json.loads(frame.data)
                if "envelope_id" in ack:
                    self.acks[ack["envelope_id"]] = ack
                    self._on_ack()
        finally:
            sender.cancel()
            self._sockets.discard(socket)
        return socket

    async def _send_envelopes(self, socket: web.WebSocketResponse) -> None:
        while not socket.closed:
            envelope = await self._outbox.get()
            if socket.closed:
                self._outbox.put_nowait(envelope)  # the next connection gets it
                return
            await socket.send_json(envelope.body)

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
