"""A fake Text Generation Inference server on loopback that speaks TGI's HTTP wire format.

Endpoints and payloads follow TGI's router (`router/src/server.rs`, `lib.rs`):

- `GET /info`: model id and limits (`max_input_tokens`, or `max_input_length` on old servers).
- `GET /health`: 200 with an empty body, or 503 `{"error": "unhealthy", "error_type": "healthcheck"}`.
- `POST /tokenize`: a list of `{id, text, start, stop}`; a server without it answers 404.
- `POST /generate`: `{"generated_text", "details": {...}}`; errors as HTTP status + `{"error", "error_type"}`.
- `POST /generate_stream`: SSE `data:{json}\\n\\n` events, one per token, the last one carrying
  `generated_text` and `details`. Every error of TGI itself (validation, overloaded, generation)
  arrives as an SSE event on HTTP 200, exactly as TGI sends it.
- `POST /`: the compat route; `"stream": true` behaves like `/generate_stream`, otherwise the
  `/generate` answer wrapped in a one-element list.

What each request gets is scripted: a queue of `Script`s, then a `responder` function from the
parsed request to a script, then the `default` script. Requests and the fate of every stream are
recorded so tests can prove what was sent and that generation stopped when the client left.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.loopback import LoopbackServer
from tests.fakes.tgi_script import (
    EOS_ID,
    EOS_TEXT,
    FakeInfo,
    GenerateCall,
    Responder,
    Script,
    TgiFailure,
    dead_url,
    fake_token_id,
    fake_tokenize,
)

__all__ = [
    "FakeInfo",
    "FakeTGI",
    "GenerateCall",
    "RecordedRequest",
    "Responder",
    "Script",
    "StreamRecord",
    "TgiFailure",
    "dead_url",
    "fake_token_id",
    "fake_tokenize",
]

_WAIT_LIMIT = 30.0  # seconds a test may wait for the fake before failing (a bound, not a pause)


@dataclass
class RecordedRequest:
    """One HTTP request the fake received."""

    method: str
    path: str
    body: Any
    headers: Mapping[str, str]
    peer: str = ""  # the client's address and port: one per connection


@dataclass
class StreamRecord:
    """What happened to one streamed generation; `finished` is set when the handler is done."""

    path: str
    inputs: str
    tokens_sent: int = 0
    completed: bool = False
    disconnected: bool = False
    finished: asyncio.Event = field(default_factory=asyncio.Event)


class _Dropped(Exception):
    """The script closed the connection on purpose."""


class FakeTGI:
    """A scriptable TGI server on 127.0.0.1 with a random port: `async with FakeTGI() as tgi`."""

    def __init__(
        self,
        *,
        default: Script | None = None,
        responder: Responder | None = None,
        info: FakeInfo | None = None,
        tokenize_enabled: bool = True,
        healthy: bool = True,
    ) -> None:
        self.default = default or Script()
        self.responder = responder
        self.info = info or FakeInfo()
        self.tokenize_enabled = tokenize_enabled
        self.healthy = healthy
        self.requests: list[RecordedRequest] = []
        self.streams: list[StreamRecord] = []
        self._queue: deque[Script] = deque()
        self._arrivals = asyncio.Condition()
        self._closing = asyncio.Event()
        self._server: LoopbackServer | None = None
        self._url = ""

    @property
    def url(self) -> str:
        if not self._url:
            raise RuntimeError("FakeTGI is not running; use it as an async context manager")
        return self._url

    def enqueue(self, *scripts: Script) -> None:
        """Scripts for the next generation requests, in order, before responder and default."""
        self._queue.extend(scripts)

    def generation_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path in ("/", "/generate", "/generate_stream")]

    async def wait_for_requests(self, count: int, path: str | None = None) -> None:
        """Wait (at most a few seconds) until `count` requests to `path` have arrived.

        Without `path`, generation requests are counted.
        """

        def arrived() -> int:
            if path is None:
                return len(self.generation_requests())
            return sum(request.path == path for request in self.requests)

        async with asyncio.timeout(_WAIT_LIMIT), self._arrivals:
            await self._arrivals.wait_for(lambda: arrived() >= count)

    async def __aenter__(self) -> FakeTGI:
        app = web.Application()
        app.router.add_get("/info", self._info)
        app.router.add_get("/health", self._health)
        app.router.add_post("/tokenize", self._tokenize)
        app.router.add_post("/generate", self._generate)
        app.router.add_post("/generate_stream", self._generate_stream)
        app.router.add_post("/", self._compat)
        # handler_cancellation: a client that disconnects cancels its handler, like TGI
        # dropping the generation; the stream record notes it.
        self._server = LoopbackServer(app, handler_cancellation=True)
        self._url = await self._server.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing.set()
        if self._server is not None:
            await self._server.stop()
            self._server = None

    # --- plain endpoints -------------------------------------------------------------------

    async def _record(self, request: web.Request) -> Any:
        body = await request.json() if request.can_read_body else None
        async with self._arrivals:
            peer = request.transport.get_extra_info("peername") if request.transport else None
            self.requests.append(
                RecordedRequest(
                    request.method, request.path, body, dict(request.headers), str(peer or "")
                )
            )
            self._arrivals.notify_all()
        return body

    async def _info(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.json_response(self.info.payload())

    async def _health(self, request: web.Request) -> web.Response:
        await self._record(request)
        if self.healthy:
            return web.Response(status=200)
        failure = TgiFailure.unhealthy()
        return web.json_response(failure.body(), status=failure.status)

    async def _tokenize(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if not self.tokenize_enabled:
            return web.Response(status=404)  # what a router without the route answers
        inputs = str(body.get("inputs", ""))
        tokens, offset = [], 0
        for piece in fake_tokenize(inputs):
            tokens.append(
                {
                    "id": fake_token_id(piece),
                    "text": piece,
                    "start": offset,
                    "stop": offset + len(piece),
                }
            )
            offset += len(piece)
        return web.json_response(tokens)

    # --- generation ------------------------------------------------------------------------

    async def _compat(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request)
        if body.get("stream"):
            return await self._stream(request, body)
        return await self._complete(request, body, wrap_in_list=True)

    async def _generate(self, request: web.Request) -> web.StreamResponse:
        return await self._complete(request, await self._record(request), wrap_in_list=False)

    async def _generate_stream(self, request: web.Request) -> web.StreamResponse:
        return await self._stream(request, await self._record(request))

    def _script_for(self, call: GenerateCall) -> Script:
        if self._queue:
            return self._queue.popleft()
        if self.responder is not None:
            return self.responder(call)
        return self.default

    def _validate(self, inputs: str, params: Mapping[str, Any]) -> TgiFailure | None:
        """TGI's own parameter checks (router/src/validation.rs), with its messages."""
        temperature = params.get("temperature")
        top_p = params.get("top_p")
        penalty = params.get("repetition_penalty")
        max_new = params.get("max_new_tokens")
        stop = params.get("stop") or []
        input_tokens = len(fake_tokenize(inputs))
        limits = self.info
        if temperature is not None and temperature <= 0:
            return TgiFailure.validation("`temperature` must be strictly positive")
        if penalty is not None and penalty <= 0:
            return TgiFailure.validation("`repetition_penalty` must be strictly positive")
        if top_p is not None and not 0 < top_p < 1:
            return TgiFailure.validation("`top_p` must be > 0.0 and < 1.0")
        if len(stop) > limits.max_stop_sequences:
            detail = f"`stop` supports up to {limits.max_stop_sequences} stop sequences. Given: {len(stop)}"
            return TgiFailure.validation(detail)
        if not inputs:
            return TgiFailure.validation("`inputs` cannot be empty")
        if max_new is not None and max_new <= 0:
            return TgiFailure.validation("`max_new_tokens` must be strictly positive")
        if input_tokens > limits.max_input_tokens:
            detail = f"`inputs` must have less than {limits.max_input_tokens} tokens. Given: {input_tokens}"
            return TgiFailure.validation(detail)
        if max_new is not None and input_tokens + max_new > limits.max_total_tokens:
            detail = (
                f"`inputs` tokens + `max_new_tokens` must be <= {limits.max_total_tokens}. "
                f"Given: {input_tokens} `inputs` tokens and {max_new} `max_new_tokens`"
            )
            return TgiFailure.validation(detail)
        return None

    def _prepare(
        self, request: web.Request, body: Any, stream: bool
    ) -> tuple[GenerateCall, Script]:
        params: Mapping[str, Any] = body.get("parameters") or {}
        call = GenerateCall(request.path, str(body.get("inputs", "")), params, stream)
        failure = self._validate(call.inputs, params)
        if failure is not None:
            return call, Script(reply=[], failure=failure)
        return call, self._script_for(call)

    def _max_new_tokens(self, call: GenerateCall) -> int:
        given = call.parameters.get("max_new_tokens")
        if given is not None:
            return int(given)
        return self.info.max_total_tokens - len(fake_tokenize(call.inputs))

    async def _hold(self, event: asyncio.Event) -> None:
        """Wait for `event`; the handler is cancelled if the client disconnects."""
        waiters = [
            asyncio.ensure_future(event.wait()),
            asyncio.ensure_future(self._closing.wait()),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _plan(self, call: GenerateCall, script: Script) -> tuple[list[str], str]:
        """The tokens generated before the end, and the finish reason TGI would report."""
        stops = [s for s in call.parameters.get("stop") or [] if s]
        limit = self._max_new_tokens(call)
        generated, text = [], ""
        for piece in script.tokens():
            generated.append(piece)
            text += piece
            if any(text.endswith(stop) for stop in stops):
                return generated, "stop_sequence"
            if len(generated) >= limit:
                return generated, "length"
        return generated, "eos_token"

    @staticmethod
    def _token(piece: str, special: bool = False) -> dict[str, Any]:
        token_id = EOS_ID if special else fake_token_id(piece)
        return {"id": token_id, "text": piece, "logprob": -0.25, "special": special}

    async def _stream(self, request: web.Request, body: Any) -> web.StreamResponse:
        call, script = self._prepare(request, body, stream=True)
        record = StreamRecord(call.path, call.inputs)
        self.streams.append(record)
        failure = script.failure
        if failure is not None and (failure.status == 503 or script.failure_as_status):
            record.finished.set()
            return web.json_response(failure.body(), status=failure.status)
        generated, finish_reason = self._plan(call, script)
        if finish_reason == "eos_token":
            events = [*[(p, False) for p in generated], (EOS_TEXT, True)]
        else:
            events = [(p, False) for p in generated]
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        try:
            await response.prepare(request)
            fail_at = min(script.fail_after, len(events) - 1)
            for index, (piece, special) in enumerate(events):
                await self._before_token(request, response, script, index, record)
                if failure is not None and index == fail_at:
                    await self._send_event(response, failure.body())
                    return response
                event: dict[str, Any] = {
                    "index": index + 1,
                    "token": self._token(piece, special),
                    "generated_text": None,
                    "details": None,
                }
                if index == len(events) - 1:
                    event["generated_text"] = self._full_text(call, generated)
                    event["details"] = {
                        "finish_reason": finish_reason,
                        "generated_tokens": len(events),
                        "seed": script.seed,
                        "input_length": len(fake_tokenize(call.inputs)),
                    }
                await self._send_event(response, event)
                record.tokens_sent += 1
            record.completed = True
            await response.write_eof()
            return response
        except _Dropped:
            return response
        except ConnectionResetError:
            # The client left while a token was being written: TGI drops the generation.
            record.disconnected = True
            return response
        except asyncio.CancelledError:
            record.disconnected = True
            raise
        finally:
            record.finished.set()

    async def _before_token(
        self,
        request: web.Request,
        response: web.StreamResponse,
        script: Script,
        index: int,
        record: StreamRecord,
    ) -> None:
        if script.pause is not None and index == script.pause_after:
            await self._hold(script.pause)
        if script.hang is not None and index == script.hang_after:
            await self._hold(script.hang)
        if script.drop_after is not None and index == script.drop_after:
            # Close the socket mid-body: the chunked stream never gets its terminator.
            assert request.transport is not None
            request.transport.close()
            raise _Dropped
        if script.token_delay:
            await asyncio.sleep(script.token_delay)

    @staticmethod
    async def _send_event(response: web.StreamResponse, payload: Mapping[str, Any]) -> None:
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        await response.write(f"data:{data}\n\n".encode())

    @staticmethod
    def _full_text(call: GenerateCall, generated: Sequence[str]) -> str:
        text = "".join(generated)
        return call.inputs + text if call.parameters.get("return_full_text") else text

    async def _complete(
        self, request: web.Request, body: Any, *, wrap_in_list: bool
    ) -> web.StreamResponse:
        call, script = self._prepare(request, body, stream=False)
        if script.hang is not None and script.hang_after == 0:
            await self._hold(script.hang)
        if script.drop_after is not None:
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if script.failure is not None:
            return web.json_response(script.failure.body(), status=script.failure.status)
        generated, finish_reason = self._plan(call, script)
        if script.token_delay:
            await asyncio.sleep(script.token_delay * len(generated))
        tokens = [self._token(p) for p in generated]
        if finish_reason == "eos_token":
            tokens.append(self._token(EOS_TEXT, special=True))
        answer = {
            "generated_text": self._full_text(call, generated),
            "details": {
                "finish_reason": finish_reason,
                "generated_tokens": len(tokens),
                "seed": script.seed,
                "prefill": [],
                "tokens": tokens,
            },
        }
        return web.json_response([answer] if wrap_in_list else answer)
