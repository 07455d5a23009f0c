"""A fake Slack Web API on loopback, reached through slack_sdk's `base_url`.

Web API requests arrive as slack_sdk sends them (`POST /api/<method>`, JSON or form body,
`Authorization: Bearer <token>`) and are answered with Slack's envelope: `{"ok": true, ...}`
or `{"ok": false, "error": ...}`; rate limits are HTTP 429 with `Retry-After`. The fake
keeps each channel's messages, including streamed ones (`chat.startStream` /
`appendStream` / `stopStream`), so tests read what a user would see; it checks what Slack
checks (a stream needs `thread_ts`, and a recipient outside DMs; 12,000 characters of
Markdown per call) and fails chosen calls on request (`ratelimited`,
`message_not_in_streaming_state`, a stream that expires).

Socket Mode: `apps.connections.open` hands out a `ws://` URL on the same server, where
`tests.fakes.slack_socket.FakeSocketMode` speaks Slack's envelope/ack protocol.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.loopback import LoopbackServer
from tests.fakes.observed import ObservedFake
from tests.fakes.slack_messages import SlackMessage
from tests.fakes.slack_socket import Envelope, FakeSocketMode

MAX_MARKDOWN = 12_000  # characters of markdown_text per call, and of markdown blocks per message
_JSON_FIELDS = frozenset({"blocks", "chunks", "attachments", "metadata", "loading_messages"})


@dataclass(frozen=True)
class ApiError:
    """A Web API error answer: Slack's error code, the HTTP status, and Retry-After for 429s."""

    error: str
    status: int = 200
    retry_after: int | None = None

    @classmethod
    def ratelimited(cls, retry_after: int) -> ApiError:
        return cls("ratelimited", 429, retry_after)

    @classmethod
    def not_streaming(cls) -> ApiError:
        return cls("message_not_in_streaming_state")

    def response(self) -> web.Response:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
        return web.json_response(
            {"ok": False, "error": self.error}, status=self.status, headers=headers
        )


class _Refused(Exception):
    def __init__(self, error: ApiError) -> None:
        super().__init__(error.error)
        self.error = error


@dataclass(frozen=True)
class ApiCall:
    """One Web API request: method, decoded parameters, when it arrived (the fake's clock)."""

    method: str
    params: Mapping[str, Any]
    at: float
    failed: ApiError | None = None
    result: Mapping[str, Any] | None = None


@dataclass
class _Failure:
    method: str
    error: ApiError
    skip: int
    when: Callable[[Mapping[str, Any]], bool]


@dataclass
class FakeSlackAPI(ObservedFake):
    """The fake server: `async with FakeSlackAPI() as api`, then use `api.base_url`."""

    bot_token: str = "xoxb-000-test-bot-token-never-logged"
    app_token: str = "xapp-1-test-app-token-never-logged"
    team_id: str = "T0BLOOM01"
    bot_user_id: str = "U0BLOOMBOT"
    bot_id: str = "B0BLOOMBOT"
    streaming_supported: bool = True
    clock: Callable[[], float] = time.monotonic
    calls: list[ApiCall] = field(default_factory=list)
    messages: list[SlackMessage] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # posts to response_url
    statuses: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self._failures: list[_Failure] = []
        self._expire_after: dict[str, int] = {}
        self._ts = itertools.count(1)
        self.socket_mode = FakeSocketMode(on_ack=self._notify)
        self._server: LoopbackServer | None = None
        self.url = ""

    async def __aenter__(self) -> FakeSlackAPI:
        app = web.Application()
        app.router.add_post("/api/{method}", self._dispatch)
        app.router.add_get("/api/{method}", self._dispatch)
        app.router.add_get("/socket", self.socket_mode.connect)
        app.router.add_post("/respond/{id}", self._respond)
        self._server = LoopbackServer(app, handler_cancellation=True)
        self.url = await self._server.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.socket_mode.close()
        if self._server is not None:
            await self._server.stop()

    @property
    def base_url(self) -> str:
        """The Web API base URL, as slack_sdk's `base_url` wants it."""
        return f"{self.url}/api/"

    def response_url(self) -> str:
        """A fresh response_url for a slash command or interaction payload."""
        return f"{self.url}/respond/{uuid.uuid4().hex}"

    # ----- scripting -------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        error: ApiError,
        *,
        after: int = 0,
        when: Callable[[Mapping[str, Any]], bool] = lambda params: True,
    ) -> None:
        """Fail the next call of `method` matching `when`, after letting `after` such calls pass."""
        self._failures.append(_Failure(method, error, after, when))

    def expire_streams(self, channel: str, *, after_appends: int = 0) -> None:
        """Streams in `channel` leave the streaming state after this many appends (Slack's timeout)."""
        self._expire_after[channel] = after_appends

    def send(
        self,
        body: Mapping[str, Any],
        *,
        kind: str = "events_api",
        retry_attempt: int = 0,
    ) -> Envelope:
        """Deliver a payload over Socket Mode (queued until the app is connected)."""
        return self.socket_mode.send(body, kind=kind, retry_attempt=retry_attempt)

    def all_acked(self) -> bool:
        """Whether the app acknowledged every Socket Mode envelope sent so far."""
        return self.socket_mode.all_acked()

    # ----- reading what happened -------------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def visible(self, channel: str) -> list[SlackMessage]:
        """The bot's messages in a channel as users see them now, oldest first."""
        return [m for m in self.messages if m.channel == channel and not m.deleted]

    def find(self, channel: str, ts: str) -> SlackMessage | None:
        for message in self.messages:
            if message.channel == channel and message.ts == ts:
                return message
        return None

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        self._notify()
        return web.Response(text="ok")

    # ----- the Web API -----------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        token = token or str(params.get("token", ""))
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        call = ApiCall(method, params, self.clock())
        if token != expected:
            return self._refuse(call, ApiError("invalid_auth"))
        failure = self._take_failure(method, params)
        if failure is not None:
            return self._refuse(call, failure)
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return self._refuse(call, ApiError("unknown_method"))
        try:
            result: dict[str, Any] = await handler(params)
        except _Refused as refused:
            return self._refuse(call, refused.error)
        self.calls.append(dataclasses.replace(call, result=result))
        self._notify()
        return web.json_response({"ok": True, **result})

    def _refuse(self, call: ApiCall, error: ApiError) -> web.Response:
        self.calls.append(dataclasses.replace(call, failed=error))
        self._notify()
        return error.response()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            loaded: dict[str, Any] = await request.json()
            return loaded
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            form = await request.post()
            params.update({name: str(value) for name, value in form.items()})
        for name in _JSON_FIELDS & params.keys():
            if isinstance(params[name], str):
                params[name] = json.loads(params[name])
        return params

    def _take_failure(self, method: str, params: Mapping[str, Any]) -> ApiError | None:
        for failure in self._failures:
            if failure.method != method or not failure.when(params):
                continue
            if failure.skip > 0:
                failure.skip -= 1
                return None
            self._failures.remove(failure)
            return failure.error
        return None

    def _new_ts(self) -> str:
        return f"1790000000.{next(self._ts):06d}"

    def _existing(self, params: Mapping[str, Any]) -> SlackMessage:
        message = self.find(str(params.get("channel", "")), str(params.get("ts", "")))
        if message is None or message.deleted:
            raise _Refused(ApiError("message_not_found"))
        return message

    @staticmethod
    def _markdown_of(params: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        """The message's Markdown (markdown blocks, markdown_text, else text) and other blocks."""
        blocks = list(params.get("blocks") or [])
        markdown = [block["text"] for block in blocks if block.get("type") == "markdown"]
        others = [block for block in blocks if block.get("type") != "markdown"]
        if markdown:
            text = "\n".join(markdown)
        else:
            text = str(params.get("markdown_text") or params.get("text") or "")
        if len(text) > MAX_MARKDOWN:
            raise _Refused(ApiError("msg_too_long"))
        if not text.strip() and not others:
            raise _Refused(ApiError("no_text"))
        return text, others

    @staticmethod
    def _chunk_text(params: Mapping[str, Any]) -> str:
        pieces = [str(params.get("markdown_text") or "")]
        for chunk in params.get("chunks") or ():
            if chunk.get("type") != "markdown_text":
                raise _Refused(ApiError("invalid_chunks"))
            pieces.append(str(chunk.get("text", "")))
        text = "".join(pieces)
        if len(text) > MAX_MARKDOWN:
            raise _Refused(ApiError("msg_too_long"))
        return text

    def _message_result(self, message: SlackMessage) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "ts": message.ts,
            "text": message.markup,
        }
        if message.thread_ts:
            payload["thread_ts"] = message.thread_ts
        return {"channel": message.channel, "ts": message.ts, "message": payload}

    async def _api_auth_test(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://bloom-lab.slack.com/",
            "team": "BLOOM lab",
            "user": "bloomchat",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    async def _api_apps_connections_open(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"url": self.url.replace("http://", "ws://") + "/socket"}

    async def _api_chat_postMessage(self, params: Mapping[str, Any]) -> dict[str, Any]:
        markup, blocks = self._markdown_of(params)
        thread = params.get("thread_ts")
        message = SlackMessage(
            channel=str(params["channel"]),
            ts=self._new_ts(),
            thread_ts=None if thread is None else str(thread),
            markup=markup,
            blocks=blocks,
        )
        self.messages.append(message)
        return self._message_result(message)

    async def _api_chat_update(self, params: Mapping[str, Any]) -> dict[str, Any]:
        message = self._existing(params)
        if message.streaming:
            raise _Refused(ApiError("message_still_streaming"))
        message.markup, message.blocks = self._markdown_of(params)
        return self._message_result(message)

    async def _api_chat_delete(self, params: Mapping[str, Any]) -> dict[str, Any]:
        message = self._existing(params)
        message.deleted = True
        return {"channel": message.channel, "ts": message.ts}

    async def _api_chat_startStream(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if not self.streaming_supported:
            raise _Refused(ApiError("unknown_method"))
        channel = str(params["channel"])
        thread = params.get("thread_ts")
        if not thread:
            raise _Refused(ApiError("invalid_arguments"))
        recipient = (params.get("recipient_user_id"), params.get("recipient_team_id"))
        if not channel.startswith("D") and not all(recipient):
            raise _Refused(ApiError("missing_recipient_user_id"))
        message = SlackMessage(
            channel=channel,
            ts=self._new_ts(),
            thread_ts=str(thread),
            markup=self._chunk_text(params),
            blocks=[],
            streaming=True,
            streamed=True,
            recipient=(str(recipient[0]), str(recipient[1])) if all(recipient) else None,
        )
        self.messages.append(message)
        return {"channel": channel, "ts": message.ts}

    def _streaming(self, params: Mapping[str, Any]) -> SlackMessage:
        message = self._existing(params)
        if not message.streaming:
            raise _Refused(ApiError.not_streaming())
        return message

    async def _api_chat_appendStream(self, params: Mapping[str, Any]) -> dict[str, Any]:
        message = self._streaming(params)
        left = self._expire_after.get(message.channel)
        if left is not None:
            if left <= 0:
                message.streaming = False
                raise _Refused(ApiError.not_streaming())
            self._expire_after[message.channel] = left - 1
        text = self._chunk_text(params)
        if not text:
            raise _Refused(ApiError("no_text"))
        message.markup += text
        return {"channel": message.channel, "ts": message.ts}

    async def _api_chat_stopStream(self, params: Mapping[str, Any]) -> dict[str, Any]:
        message = self._streaming(params)
        if self._expire_after.get(message.channel, 1) <= 0:
            message.streaming = False
            raise _Refused(ApiError.not_streaming())
        message.markup += self._chunk_text(params)
        message.blocks = list(params.get("blocks") or [])
        message.streaming = False
        return self._message_result(message)

    async def _api_assistant_threads_setStatus(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if not params.get("channel_id") or not params.get("thread_ts"):
            raise _Refused(ApiError("invalid_arguments"))
        self.statuses.append(dict(params))
        return {}

    async def _api_users_info(self, params: Mapping[str, Any]) -> dict[str, Any]:
        user = str(params.get("user", ""))
        locale = "fr-FR" if user.endswith("FR") else "en-US"
        return {"user": {"id": user, "name": user.lower(), "locale": locale}}
