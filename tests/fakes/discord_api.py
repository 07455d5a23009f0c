"""A fake Discord REST API (v10) on loopback that discord.py reaches through its API base URL.

It answers what a bot needs: login (`/users/@me`, `/oauth2/applications/@me`), messages
(create, edit, delete), typing, threads, application commands, interaction callbacks and
follow-ups. Every answer carries Discord's rate-limit headers for its bucket, counted on the
fake's clock; chosen calls can be answered with a 429 (`retry_after`, bucket headers, `Via`)
or another error. The fake keeps channel messages as users see them, and works out from
`allowed_mentions` whom each send or edit would ping, by Discord's rules.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.discord_model import DiscordWorld
from tests.fakes.discord_rest import (
    Answer,
    ApiCall,
    ApiError,
    ChannelMessage,
    Failure,
    Refused,
    check_content,
    json_response,
    pings,
)
from tests.fakes.loopback import LoopbackServer
from tests.fakes.observed import ObservedFake

_BUCKET_LIMIT = 5  # Discord's message buckets: 5 calls per 5 seconds per channel
_BUCKET_WINDOW = 5.0


@dataclass
class FakeDiscordAPI(ObservedFake):
    """The fake REST server: `async with FakeDiscordAPI(world) as api`, then use `api.api_url`."""

    world: DiscordWorld = field(default_factory=DiscordWorld)
    clock: Callable[[], float] = time.monotonic  # timestamps of calls and bucket windows
    calls: list[ApiCall] = field(default_factory=list)
    messages: list[ChannelMessage] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self._failures: list[Failure] = []
        self._windows: dict[str, list[float]] = {}
        self._ids = itertools.count(1_700_000_000_000_000_001)
        self._server: LoopbackServer | None = None
        self.url = ""

    @property
    def api_url(self) -> str:
        """The REST base, with the API version, to configure the bot with."""
        return f"{self.url}/api/v10"

    async def __aenter__(self) -> FakeDiscordAPI:
        app = web.Application()
        app.router.add_route("*", "/api/v10/{path:.*}", self._dispatch)
        self._server = LoopbackServer(app)
        self.url = await self._server.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._server is not None:
            await self._server.stop()

    # ----- scripting -------------------------------------------------------------------------

    def fail(
        self,
        route: str,
        error: ApiError,
        *,
        when: Callable[[Mapping[str, Any]], bool] = lambda params: True,
    ) -> None:
        """Answer the next call of `route` matching `when` with `error`."""
        self._failures.append(Failure(route, error, when))

    def next_id(self) -> str:
        return str(next(self._ids))

    # ----- reading what happened -------------------------------------------------------------

    def calls_to(self, route: str) -> list[ApiCall]:
        return [call for call in self.calls if call.route == route]

    def visible(self, channel_id: str) -> list[ChannelMessage]:
        """The bot's messages in a channel as everyone there sees them, oldest first."""
        return [
            m
            for m in self.messages
            if m.channel_id == channel_id and not m.deleted and not m.ephemeral
        ]

    def message(self, message_id: str) -> ChannelMessage:
        return next(m for m in self.messages if m.message_id == message_id)

    # ----- the server ------------------------------------------------------------------------

    _ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
        (method, re.compile(pattern), name)
        for method, pattern, name in (
            ("GET", r"users/@me", "get_me"),
            ("GET", r"oauth2/applications/@me", "application_info"),
            ("GET", r"gateway/bot", "gateway_bot"),
            ("GET", r"gateway", "gateway"),
            ("GET", r"channels/(?P<channel>\d+)", "get_channel"),
            ("POST", r"channels/(?P<channel>\d+)/messages", "create_message"),
            ("PATCH", r"channels/(?P<channel>\d+)/messages/(?P<message>\d+)", "edit_message"),
            ("DELETE", r"channels/(?P<channel>\d+)/messages/(?P<message>\d+)", "delete_message"),
            ("POST", r"channels/(?P<channel>\d+)/typing", "typing"),
            (
                "POST",
                r"channels/(?P<channel>\d+)/messages/(?P<message>\d+)/threads",
                "start_thread",
            ),
            ("PUT", r"applications/(?P<app>\d+)/commands", "bulk_commands"),
            ("GET", r"applications/(?P<app>\d+)/commands", "get_commands"),
            (
                "POST",
                r"interactions/(?P<interaction>\d+)/(?P<token>[^/]+)/callback",
                "interaction_callback",
            ),
            (
                "PATCH",
                r"webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/@original",
                "edit_original",
            ),
            ("GET", r"webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/@original", "get_original"),
            ("POST", r"webhooks/(?P<app>\d+)/(?P<token>[^/]+)", "followup"),
            (
                "PATCH",
                r"webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<message>\d+)",
                "edit_followup",
            ),
        )
    )

    def _match(self, method: str, path: str) -> tuple[str, dict[str, str]] | None:
        for route_method, pattern, name in self._ROUTES:
            match = pattern.fullmatch(path)
            if match is not None and route_method == method:
                return name, match.groupdict()
        return None

    def _authorized(self, request: web.Request, route: str) -> bool:
        if route.startswith(
            ("interaction_", "edit_original", "get_original", "followup", "edit_f")
        ):
            return True  # interaction tokens authorize these, not the bot token
        return request.headers.get("Authorization") == f"Bot {self.world.token}"

    def _bucket_headers(self, key: str, now: float, *, exhausted: bool) -> dict[str, str]:
        window = [at for at in self._windows.get(key, []) if at > now - _BUCKET_WINDOW]
        if not exhausted:
            window.append(now)
        self._windows[key] = window
        reset_after = _BUCKET_WINDOW - (now - window[0]) if window else _BUCKET_WINDOW
        remaining = 0 if exhausted else max(_BUCKET_LIMIT - len(window), 0)
        return {
            "X-RateLimit-Limit": str(_BUCKET_LIMIT),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": f"fake-{key.split(':')[0]}",
            "Via": "1.1 google",
        }

    async def _dispatch(self, request: web.Request) -> web.Response:
        path = request.match_info["path"].rstrip("/")
        matched = self._match(request.method, path)
        if matched is None:
            return json_response({"message": "404: Not Found", "code": 0}, status=404)
        route, parts = matched
        if not self._authorized(request, route):
            return json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        params: dict[str, Any] = {}
        if request.can_read_body and request.content_type == "application/json":
            body = await request.json()
            params = dict(body) if isinstance(body, dict) else {"items": body}
        params |= {f"_{name}": value for name, value in parts.items()}
        params |= {f"?{name}": value for name, value in request.query.items()}
        now = self.clock()
        bucket = f"{route}:{parts.get('channel') or parts.get('token') or ''}"
        failure = self._take_failure(route, params)
        if failure is not None:
            headers = self._bucket_headers(bucket, now, exhausted=failure.status == 429)
            if failure.status == 429:
                retry_after = float(failure.body["retry_after"])
                headers |= {
                    "Retry-After": str(max(1, round(retry_after))),
                    "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                    "X-RateLimit-Scope": "shared" if failure.body.get("global") else "user",
                }
            self.calls.append(ApiCall(route, params, now, path, failure.status))
            self._notify()
            return json_response(dict(failure.body), status=failure.status, headers=headers)
        handler = getattr(self, f"_api_{route}")
        try:
            status, result, notified = handler(params)
        except Refused as refused:
            self.calls.append(ApiCall(route, params, now, path, refused.error.status))
            self._notify()
            return json_response(dict(refused.error.body), status=refused.error.status)
        self.calls.append(ApiCall(route, params, now, path, status, result, notified))
        self._notify()
        headers = self._bucket_headers(bucket, now, exhausted=False)
        if status == 204:
            return web.Response(status=204, headers=headers)
        return json_response(result, status=status, headers=headers)

    def _take_failure(self, route: str, params: Mapping[str, Any]) -> ApiError | None:
        for failure in self._failures:
            if failure.route == route and failure.when(params):
                self._failures.remove(failure)
                return failure.error
        return None

    # ----- messages --------------------------------------------------------------------------

    def message_payload(self, message: ChannelMessage) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": message.message_id,
            "type": 19 if message.reference else 0,
            "channel_id": message.channel_id,
            "author": self.world.bot_user(),
            "content": message.content,
            "timestamp": "2024-11-25T10:30:00.000000+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "flags": 64 if message.ephemeral else 0,
            "components": message.components,
        }
        guild_id = self.world.guild_of(message.channel_id)
        if guild_id is not None:
            payload["guild_id"] = guild_id
        if message.reference:
            payload["message_reference"] = {
                "type": 0,
                "channel_id": message.channel_id,
                "message_id": message.reference,
            }
        return payload

    def _replied_author(self, reference: str | None) -> str | None:
        if reference is None:
            return None
        return self.world.user_message_authors.get(reference)

    def _create(
        self,
        channel_id: str,
        params: Mapping[str, Any],
        *,
        interaction_token: str | None = None,
        ephemeral: bool = False,
    ) -> tuple[ChannelMessage, frozenset[str]]:
        check_content(params, creating=interaction_token is None)
        reference = (params.get("message_reference") or {}).get("message_id")
        message = ChannelMessage(
            channel_id=channel_id,
            message_id=self.next_id(),
            content=str(params.get("content") or ""),
            author_id=self.world.bot_id,
            components=list(params.get("components") or []),
            reference=None if reference is None else str(reference),
            interaction_token=interaction_token,
            ephemeral=ephemeral,
        )
        self.messages.append(message)
        notified = pings(
            message.content,
            params.get("allowed_mentions"),
            self._replied_author(message.reference),
        )
        return message, notified

    def _edit(self, message: ChannelMessage, params: Mapping[str, Any]) -> frozenset[str]:
        check_content(params, creating=False)
        if "content" in params:
            message.content = str(params["content"] or "")
        if "components" in params:
            message.components = list(params["components"] or [])
        message.edits += 1
        # An edit notifies nobody new on Discord; what it *would* ping shows a missing guard.
        return pings(message.content, params.get("allowed_mentions"), None)

    def _find(self, message_id: str) -> ChannelMessage:
        for message in self.messages:
            if message.message_id == message_id and not message.deleted:
                return message
        raise Refused(ApiError(404, {"message": "Unknown Message", "code": 10008}))

    # ----- routes ----------------------------------------------------------------------------

    def _api_get_me(self, params: Mapping[str, Any]) -> Answer:
        return 200, self.world.bot_user(), frozenset()

    def _api_application_info(self, params: Mapping[str, Any]) -> Answer:
        return 200, self.world.application(), frozenset()

    def _api_gateway_bot(self, params: Mapping[str, Any]) -> Answer:
        return (
            200,
            {
                "url": self.world.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14400000,
                    "max_concurrency": 1,
                },
            },
            frozenset(),
        )

    def _api_gateway(self, params: Mapping[str, Any]) -> Answer:
        return 200, {"url": self.world.gateway_url}, frozenset()

    def _api_get_channel(self, params: Mapping[str, Any]) -> Answer:
        channel = self.world.channel(str(params["_channel"]))
        if channel is None:
            raise Refused(ApiError(404, {"message": "Unknown Channel", "code": 10003}))
        return 200, channel, frozenset()

    def _api_create_message(self, params: Mapping[str, Any]) -> Answer:
        message, notified = self._create(str(params["_channel"]), params)
        return 200, self.message_payload(message), notified

    def _api_edit_message(self, params: Mapping[str, Any]) -> Answer:
        message = self._find(str(params["_message"]))
        notified = self._edit(message, params)
        return 200, self.message_payload(message), notified

    def _api_delete_message(self, params: Mapping[str, Any]) -> Answer:
        self._find(str(params["_message"])).deleted = True
        return 204, None, frozenset()

    def _api_typing(self, params: Mapping[str, Any]) -> Answer:
        return 204, None, frozenset()

    def _api_start_thread(self, params: Mapping[str, Any]) -> Answer:
        parent = str(params["_channel"])
        if str(params["_message"]) in self.world.threads:
            error = {
                "message": "A thread has already been created for this message",
                "code": 160004,
            }
            raise Refused(ApiError(400, error))
        thread = self.world.add_thread(parent, str(params["_message"]), str(params["name"]))
        return 201, thread, frozenset()

    def _api_bulk_commands(self, params: Mapping[str, Any]) -> Answer:
        self.commands = [
            {
                **command,
                "id": self.next_id(),
                "application_id": self.world.application_id,
                "version": self.next_id(),
                "type": command.get("type", 1),
            }
            for command in params["items"]
        ]
        return 200, self.commands, frozenset()

    def _api_get_commands(self, params: Mapping[str, Any]) -> Answer:
        return 200, self.commands, frozenset()

    def _api_interaction_callback(self, params: Mapping[str, Any]) -> Answer:
        interaction = self.world.interactions.get(str(params["_interaction"]))
        if interaction is None or interaction["token"] != params["_token"]:
            raise Refused(ApiError(404, {"message": "Unknown interaction", "code": 10062}))
        kind = int(params["type"])
        data = params.get("data") or {}
        ephemeral = bool(int(data.get("flags") or 0) & 64)
        resource: dict[str, Any] = {"type": kind}
        message_id = None
        if kind in (4, 5):  # a message, or "thinking…" until the follow-up edits it
            created, notified = self._create(
                str(interaction["channel_id"]),
                {**data, "content": data.get("content", "")},
                interaction_token=str(interaction["token"]),
                ephemeral=ephemeral,
            )
            message_id = created.message_id
            resource["message"] = self.message_payload(created)
        else:
            notified = frozenset()
        answer = {
            "interaction": {
                "id": str(params["_interaction"]),
                "type": int(interaction["type"]),
                "response_message_id": message_id,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": ephemeral,
            },
            "resource": resource,
        }
        return 200, answer, notified

    def _original(self, token: str) -> ChannelMessage:
        for message in self.messages:
            if message.interaction_token == token:
                return message
        raise Refused(ApiError(404, {"message": "Unknown Message", "code": 10008}))

    def _api_edit_original(self, params: Mapping[str, Any]) -> Answer:
        message = self._original(str(params["_token"]))
        notified = self._edit(message, params)
        return 200, self.message_payload(message), notified

    def _api_get_original(self, params: Mapping[str, Any]) -> Answer:
        return 200, self.message_payload(self._original(str(params["_token"]))), frozenset()

    def _api_followup(self, params: Mapping[str, Any]) -> Answer:
        token = str(params["_token"])
        original = self._original(token)
        ephemeral = bool(int(params.get("flags") or 0) & 64)
        message, notified = self._create(original.channel_id, params, ephemeral=ephemeral)
        message.interaction_token = f"{token}:followup"
        return 200, self.message_payload(message), notified

    def _api_edit_followup(self, params: Mapping[str, Any]) -> Answer:
        message = self._find(str(params["_message"]))
        notified = self._edit(message, params)
        return 200, self.message_payload(message), notified
