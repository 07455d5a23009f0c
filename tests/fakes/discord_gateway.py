"""A fake Discord gateway (v10, JSON encoding) on loopback, speaking plain JSON text frames.

It answers in text frames whatever transport compression the client's URL asks for
(`compress=zlib-stream`): discord.py decompresses binary frames only and reads a text frame
as JSON, so the frames stay readable in tests while the client runs its usual code.

A client connects, gets HELLO, sends IDENTIFY (the token and intents are checked and
recorded) and receives READY and GUILD_CREATE; heartbeats are acknowledged. Tests then
dispatch events (MESSAGE_CREATE, INTERACTION_CREATE, ...) with increasing sequence numbers.
`sync()` asks the client for a heartbeat (opcode 1 from the server) and waits until the
client reports the latest sequence number: every event sent before has then been read.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_model import MESSAGE_CONTENT_INTENT, DiscordWorld
from tests.fakes.loopback import LoopbackServer

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, HELLO, HEARTBEAT_ACK = 0, 1, 2, 6, 10, 11
AUTHENTICATION_FAILED = 4004
DISALLOWED_INTENTS = 4014
_WAIT_LIMIT = 10.0


@dataclass
class FakeDiscordGateway:
    """`async with FakeDiscordGateway(world) as gateway`; the bot connects to `gateway.url`."""

    world: DiscordWorld
    heartbeat_interval_ms: int = 41_250
    queries: list[dict[str, str]] = field(default_factory=list)  # query of each connection
    identifies: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)  # every frame from the client
    sent: list[dict[str, Any]] = field(default_factory=list)  # every dispatch to the client

    def __post_init__(self) -> None:
        self.sequence = 0
        self._socket: web.WebSocketResponse | None = None
        self._session = 0
        self._changed = asyncio.Condition()
        self._server: LoopbackServer | None = None
        self.url = ""

    async def __aenter__(self) -> FakeDiscordGateway:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._connect)
        self._server = LoopbackServer(app)
        http_url = await self._server.start()
        self.url = "ws" + http_url.removeprefix("http") + "/"
        self.world.gateway_url = self.url
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        socket, self._socket = self._socket, None
        if socket is not None and not socket.closed:
            await socket.close()
        if self._server is not None:
            await self._server.stop()

    # ----- what tests do ---------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._socket is not None and not self._socket.closed

    async def wait_until_identified(self, count: int = 1) -> None:
        await self._wait(lambda: len(self.identifies) >= count and self.connected)

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send one event to the connected client; returns its sequence number."""
        if self._socket is None or self._socket.closed:
            raise RuntimeError("no client is connected to the fake gateway")
        self.sequence += 1
        frame = {"op": DISPATCH, "t": event, "s": self.sequence, "d": data}
        self.sent.append(frame)
        await self._socket.send_str(json.dumps(frame))
        return self.sequence

    async def sync(self) -> None:
        """Return once the client has read every event sent so far (heartbeat round trip)."""
        if self._socket is None or self._socket.closed:
            return
        target = self.sequence
        await self._socket.send_str(json.dumps({"op": HEARTBEAT, "d": None}))
        await self._wait(
            lambda: any(
                frame.get("op") == HEARTBEAT and (frame.get("d") or 0) >= target
                for frame in self.received
            )
        )

    # ----- the server ------------------------------------------------------------------------

    async def _wait(self, condition: Any) -> None:
        async with asyncio.timeout(_WAIT_LIMIT), self._changed:
            await self._changed.wait_for(condition)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _send(self, socket: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        await socket.send_str(json.dumps(frame))

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.queries.append(dict(request.query))
        await self._send(
            socket, {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
        )
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                break  # only JSON text frames are spoken here
            frame = json.loads(message.data)
            self.received.append(frame)
            await self._on_frame(socket, frame)
            await self._notify()
        if self._socket is socket:
            self._socket = None
        await self._notify()
        return socket

    async def _on_frame(self, socket: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        if op == HEARTBEAT:
            await self._send(socket, {"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            data = frame.get("d") or {}
            if data.get("token") != self.world.token:
                await socket.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
                return
            intents = int(data.get("intents", 0))
            if intents & MESSAGE_CONTENT_INTENT and not self.world.message_content_enabled:
                await socket.close(code=DISALLOWED_INTENTS, message=b"Disallowed intent(s).")
                return
            self.identifies.append(data)
            self.world.intents = intents
            self._socket = socket
            self._session += 1
            await self._ready(socket)
        elif op == RESUME:
            self._socket = socket
            await self.dispatch("RESUMED", {})

    async def _ready(self, socket: web.WebSocketResponse) -> None:
        self._socket = socket
        await self.dispatch(
            "READY",
            {
                "v": 10,
                "user": self.world.bot_user(),
                "guilds": [{"id": self.world.guild_id, "unavailable": True}],
                "session_id": f"fake-session-{self._session}",
                "resume_gateway_url": self.url,
                "shard": [0, 1],
                "application": {"id": self.world.application_id, "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "auth": {},
                "session_type": "normal",
                "user_settings": {},
                "_trace": ["fake-gateway"],
            },
        )
        await self.dispatch("GUILD_CREATE", self.world.guild())
