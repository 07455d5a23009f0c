"""A fake OpenAI-compatible completions server (the `/v1/completions` of vLLM) on loopback.

`POST /v1/completions` with `"stream": true` answers server-sent events, one per piece of text,
`data: [DONE]` last; `GET /v1/models` lists the model with vLLM's `max_model_len`. What each
request gets is decided by `responder(prompt) -> list of text pieces`; requests are recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fakes.loopback import LoopbackServer

Responder = Callable[[str], list[str]]


class FakeCompletions:
    """`async with FakeCompletions(responder, model=...) as server`, then use `server.url`."""

    def __init__(
        self, responder: Responder, *, model: str = "guard", max_model_len: int = 8192
    ) -> None:
        self.responder = responder
        self.model = model
        self.max_model_len = max_model_len
        self.requests: list[dict[str, Any]] = []
        self.failure_status: int | None = None
        self.drop_after: int | None = None  # close the connection after this many pieces
        self._server: LoopbackServer | None = None
        self.url = ""

    async def __aenter__(self) -> FakeCompletions:
        app = web.Application()
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        self._server = LoopbackServer(app)
        self.url = await self._server.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._server is not None:
            await self._server.stop()

    async def _models(self, request: web.Request) -> web.Response:
        entry = {"id": self.model, "object": "model", "max_model_len": self.max_model_len}
        return web.json_response({"object": "list", "data": [entry]})

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        if self.failure_status is not None:
            error = {"object": "error", "message": "model is busy", "code": self.failure_status}
            return web.json_response(error, status=self.failure_status)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        pieces = self.responder(str(body["prompt"]))
        for index, piece in enumerate(pieces):
            if index == self.drop_after:
                assert request.transport is not None
                request.transport.close()  # mid-body: the chunked stream never ends
                return response
            last = index == len(pieces) - 1
            choice = {"index": 0, "text": piece, "finish_reason": "stop" if last else None}
            event = {
                "id": "cmpl-1",
                "object": "text_completion",
                "model": self.model,
                "choices": [choice],
            }
            await response.write(f"data: {json.dumps(event)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
