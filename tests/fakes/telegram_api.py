"""A fake Telegram Bot API server on loopback that python-telegram-bot talks to via `base_url`.

Requests arrive as PTB sends them (`POST /bot<token>/<method>`, form fields with JSON values)
and are answered with the Bot API's envelope: `{"ok": true, "result": ...}` or
`{"ok": false, "error_code", "description", "parameters"}`. The fake keeps the chats' messages
so tests can read what a user would see, checks what Telegram checks (text length in UTF-16
units, entity bounds, "message is not modified"), feeds scripted updates to getUpdates, and
fails chosen calls on request (flood waits, "can't parse entities").
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.loopback import LoopbackServer
from tests.fakes.observed import ObservedFake

MAX_TEXT_UNITS = 4096
# Form fields PTB sends as plain strings; every other field holds JSON.
_STRING_FIELDS = frozenset(
    {"text", "callback_query_id", "url", "secret_token", "action", "parse_mode", "language_code"}
)


def utf16_units(text: str) -> int:
    """Text length as Telegram counts it."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass(frozen=True)
class ApiError:
    """A Bot API error answer: HTTP status, description, and retry_after for flood waits."""

    status: int
    description: str
    retry_after: int | None = None

    @classmethod
    def flood_wait(cls, retry_after: int) -> ApiError:
        return cls(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    @classmethod
    def cant_parse_entities(cls) -> ApiError:
        return cls(
            400,
            "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 12",
        )

    @classmethod
    def not_modified(cls) -> ApiError:
        return cls(
            400,
            "Bad Request: message is not modified: specified new message content and reply "
            "markup are exactly the same as a current content and reply markup of the message",
        )

    @classmethod
    def method_not_found(cls) -> ApiError:
        return cls(404, "Not Found: method not found")

    def body(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            payload["parameters"] = {"retry_after": self.retry_after}
        return payload


class _Refused(Exception):
    def __init__(self, error: ApiError) -> None:
        super().__init__(error.description)
        self.error = error


@dataclass(frozen=True)
class ApiCall:
    """One Bot API request: method, decoded parameters, and when it arrived (monotonic)."""

    method: str
    params: Mapping[str, Any]
    at: float
    failed: ApiError | None = None
    result: Any = None


@dataclass
class ChatMessage:
    """A message the bot sent, as the chat shows it now."""

    chat_id: int
    message_id: int
    thread_id: int | None
    text: str
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    reply_to: int | None
    deleted: bool = False
    edits: int = 0


@dataclass
class _Failure:
    method: str
    error: ApiError
    skip: int
    when: Callable[[Mapping[str, Any]], bool]


@dataclass
class FakeTelegramAPI(ObservedFake):
    """The fake server: `async with FakeTelegramAPI() as api`, then point PTB at `api.url`."""

    token: str = "123456:TEST-token-never-logged"
    bot_id: int = 123456
    bot_username: str = "bloom_test_bot"
    drafts_supported: bool = True
    clock: Callable[[], float] = time.monotonic  # timestamps of recorded calls
    refuse_entities_in: set[int] = field(default_factory=set)  # chats refusing formatting
    confirmed_offset: int = 0  # getUpdates offset: every update below it was received
    fed_ids: list[int] = field(default_factory=list)
    confirmed_ids: list[int] = field(default_factory=list)  # fetched, then confirmed
    calls: list[ApiCall] = field(default_factory=list)
    messages: list[ChatMessage] = field(default_factory=list)
    drafts: dict[tuple[int, int], str] = field(default_factory=dict)
    commands: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__()
        self._pending: deque[dict[str, Any]] = deque()
        self._fetched: list[int] = []  # handed to the bot, not yet confirmed
        self._failures: list[_Failure] = []
        self._message_ids = itertools.count(5001)
        self._update_ids = itertools.count(900_001)
        self._server: LoopbackServer | None = None
        self.url = ""

    async def __aenter__(self) -> FakeTelegramAPI:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        # handler_cancellation: a client that leaves ends its long poll at once.
        self._server = LoopbackServer(app, handler_cancellation=True)
        self.url = await self._server.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._server is not None:
            await self._server.stop()

    # ----- scripting -------------------------------------------------------------------------

    def feed(self, *updates: Mapping[str, Any]) -> list[int]:
        """Queue updates for getUpdates (an update without update_id gets one); returns the ids."""
        ids = []
        for update in updates:
            payload = dict(update)
            payload.setdefault("update_id", next(self._update_ids))
            self._pending.append(payload)
            ids.append(payload["update_id"])
            self.fed_ids.append(payload["update_id"])
        self._notify()
        return ids

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

    # ----- reading what happened -------------------------------------------------------------

    def all_received(self) -> bool:
        """Whether the bot confirmed (by a later getUpdates offset) every update fed so far.

        An update fed twice (a redelivery) must have been fetched and confirmed twice.
        """
        return not Counter(self.fed_ids) - Counter(self.confirmed_ids)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def visible(self, chat_id: int, thread_id: int | None = None) -> list[ChatMessage]:
        """The bot's messages in a chat (or topic) as a user sees them now, oldest first."""
        return [
            m
            for m in self.messages
            if m.chat_id == chat_id and m.thread_id == thread_id and not m.deleted
        ]

    # ----- the server ------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        failure = self._take_failure(method, params)
        call = ApiCall(method, params, self.clock(), failure)
        if failure is not None:
            self.calls.append(call)
            self._notify()
            return web.json_response(failure.body(), status=failure.status)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            self.calls.append(call)
            error = ApiError.method_not_found()
            return web.json_response(error.body(), status=error.status)
        try:
            result = await handler(params)
        except _Refused as refused:
            self.calls.append(ApiCall(method, params, call.at, refused.error))
            self._notify()
            return web.json_response(refused.error.body(), status=refused.error.status)
        if method != "getUpdates" or result:
            self.calls.append(dataclasses.replace(call, result=result))
        self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            loaded: dict[str, Any] = await request.json()
            return loaded
        form = await request.post()
        params: dict[str, Any] = {}
        for name, value in form.items():
            text = str(value)
            if name in _STRING_FIELDS:
                params[name] = text
                continue
            try:
                params[name] = json.loads(text)
            except ValueError:
                params[name] = text
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

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "BLOOMChat",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _message_payload(self, message: ChatMessage) -> dict[str, Any]:
        chat_type = "private" if message.chat_id > 0 else "supergroup"
        payload: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": {"id": message.chat_id, "type": chat_type},
            "from": self._bot_user(),
            "text": message.text,
        }
        if message.entities:
            payload["entities"] = message.entities
        if message.reply_markup:
            payload["reply_markup"] = message.reply_markup
        if message.thread_id is not None:
            payload["message_thread_id"] = message.thread_id
            payload["is_topic_message"] = True
        return payload

    def _check_text(self, chat_id: int, text: str, entities: list[dict[str, Any]]) -> None:
        if entities and chat_id in self.refuse_entities_in:
            raise _Refused(ApiError.cant_parse_entities())
        if not text.strip():
            raise _Refused(ApiError(400, "Bad Request: message text is empty"))
        units = utf16_units(text)
        if units > MAX_TEXT_UNITS:
            raise _Refused(ApiError(400, "Bad Request: message is too long"))
        for entity in entities:
            offset, length = int(entity["offset"]), int(entity["length"])
            if offset < 0 or length <= 0 or offset + length > units:
                raise _Refused(ApiError.cant_parse_entities())

    def _find(self, chat_id: int, message_id: int) -> ChatMessage:
        for message in self.messages:
            if message.chat_id == chat_id and message.message_id == message_id:
                if message.deleted:
                    break
                return message
        raise _Refused(ApiError(400, "Bad Request: message to edit not found"))

    # ----- Bot API methods -------------------------------------------------------------------

    async def _api_getMe(self, params: Mapping[str, Any]) -> Any:
        return self._bot_user()

    async def _api_setMyCommands(self, params: Mapping[str, Any]) -> Any:
        language = str(params.get("language_code", ""))
        if language and not (len(language) == 2 and language.isalpha()):
            raise _Refused(ApiError(400, "Bad Request: invalid language code specified"))
        self.commands[str(params.get("language_code", ""))] = list(params["commands"])
        return True

    async def _api_deleteWebhook(self, params: Mapping[str, Any]) -> Any:
        self.webhook = {}
        return True

    async def _api_setWebhook(self, params: Mapping[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    async def _api_getUpdates(self, params: Mapping[str, Any]) -> Any:
        offset = int(params.get("offset", 0) or 0)
        confirmed = [update_id for update_id in self._fetched if update_id < offset]
        self.confirmed_ids += confirmed
        self._fetched = [update_id for update_id in self._fetched if update_id >= offset]
        if offset > self.confirmed_offset or confirmed:
            self.confirmed_offset = max(offset, self.confirmed_offset)
            async with self._changed:
                self._changed.notify_all()  # before the long poll: settling waits for this
        while self._pending and self._pending[0]["update_id"] < offset:
            self._pending.popleft()
        if not self._pending and float(params.get("timeout", 0) or 0) > 0:
            async with self._changed:
                try:
                    async with asyncio.timeout(float(params["timeout"])):
                        await self._changed.wait_for(lambda: bool(self._pending))
                except TimeoutError:
                    return []
        limit = int(params.get("limit", 100) or 100)
        batch = [update for update in self._pending if update["update_id"] >= offset][:limit]
        self._fetched += [
            update["update_id"] for update in batch if update["update_id"] not in self._fetched
        ]
        return batch

    async def _api_sendChatAction(self, params: Mapping[str, Any]) -> Any:
        return True

    async def _api_answerCallbackQuery(self, params: Mapping[str, Any]) -> Any:
        return True

    async def _api_sendMessage(self, params: Mapping[str, Any]) -> Any:
        text = str(params.get("text", ""))
        entities = list(params.get("entities") or [])
        if "parse_mode" in params:
            raise _Refused(ApiError(400, "Bad Request: the fake only accepts entities"))
        self._check_text(int(params["chat_id"]), text, entities)
        reply = params.get("reply_parameters") or {}
        thread = params.get("message_thread_id")
        message = ChatMessage(
            chat_id=int(params["chat_id"]),
            message_id=next(self._message_ids),
            thread_id=None if thread is None else int(thread),
            text=text,
            entities=entities,
            reply_markup=params.get("reply_markup"),
            reply_to=reply.get("message_id"),
        )
        self.messages.append(message)
        return self._message_payload(message)

    async def _api_editMessageText(self, params: Mapping[str, Any]) -> Any:
        message = self._find(int(params["chat_id"]), int(params["message_id"]))
        text = str(params.get("text", ""))
        entities = list(params.get("entities") or [])
        markup = params.get("reply_markup")
        self._check_text(message.chat_id, text, entities)
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise _Refused(ApiError.not_modified())
        message.text, message.entities, message.reply_markup = text, entities, markup
        message.edits += 1
        return self._message_payload(message)

    async def _api_deleteMessage(self, params: Mapping[str, Any]) -> Any:
        message = self._find(int(params["chat_id"]), int(params["message_id"]))
        message.deleted = True
        return True

    async def _api_sendMessageDraft(self, params: Mapping[str, Any]) -> Any:
        if not self.drafts_supported:
            raise _Refused(ApiError.method_not_found())
        chat_id, draft_id = int(params["chat_id"]), int(params["draft_id"])
        if chat_id < 0:
            raise _Refused(ApiError(400, "Bad Request: TEXTDRAFT_PEER_INVALID"))
        if draft_id == 0:
            raise _Refused(ApiError(400, "Bad Request: draft_id must be non-zero"))
        text = str(params.get("text", ""))
        entities = list(params.get("entities") or [])
        if text:
            self._check_text(chat_id, text, entities)
        self.drafts[(chat_id, draft_id)] = text
        return True
