"""A `TextGenerator` for an OpenAI-compatible `/v1/completions` server (vLLM, SGLang, ...).

Raw text completion, streamed as server-sent events (`data: {...}`, then `data: [DONE]`).
Errors map onto the same tree as TGI's: 422/400 validation, 429 overloaded, 5xx unhealthy.
Stop texts and broken streams are handled by `StreamingBackend`, as for every backend.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from typing import Any, Self

import httpx

from core.errors import GenerationError, ReplicaUnreachable, ValidationError
from core.generation.base import GenerationParams, ModelInfo, Token
from core.generation.streaming import StreamingBackend
from core.generation.tgi import display_url
from core.generation.tgi_events import error_for_status

# OpenAI's names for why a completion ended, as TGI names them in `Token.finish_reason`.
_FINISH = {"stop": "eos_token", "length": "length"}


class OpenAICompletionsGenerator(StreamingBackend):
    """Streams completions of `model` from `url` (the server root, without `/v1`).

    `timeout` bounds connecting and each wait for the next event; use as an async context manager.
    """

    def __init__(
        self, url: str, *, model: str, timeout: float = 30.0, api_token: str | None = None
    ) -> None:
        self._url = url.rstrip("/")
        self.url = display_url(self._url)
        self.model = model
        self._timeout = timeout
        headers = {"authorization": f"Bearer {api_token}"} if api_token else {}
        self._headers = headers
        self._http: httpx.AsyncClient | None = None

    @property
    def replica_name(self) -> str:
        return self.url

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self._url, timeout=httpx.Timeout(self._timeout), headers=self._headers
            )
        return self._http

    def _body(self, prompt: str, params: GenerationParams) -> dict[str, Any]:
        if params.max_new_tokens < 1:
            raise ValidationError("max_new_tokens must be at least 1", replica=self.url)
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": prompt,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": True,
        }
        if params.repetition_penalty != 1.0:
            body["repetition_penalty"] = params.repetition_penalty  # a vLLM extension
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        return body

    async def _raw_tokens(
        self, prompt: str, params: GenerationParams
    ) -> AsyncGenerator[Token, None]:
        """Text pieces of the completion as the server sends them; the last carries the reason."""
        body = self._body(prompt, params)
        try:
            async with self._client().stream("POST", "/v1/completions", json=body) as response:
                if response.status_code >= 400:
                    detail = (await response.aread()).decode(errors="replace")[:200]
                    status = 422 if response.status_code == 400 else response.status_code
                    raise error_for_status(status, detail, self.url)
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        return
                    choice = json.loads(payload)["choices"][0]
                    reason = choice.get("finish_reason")
                    yield Token(
                        text=choice.get("text") or "",
                        finish_reason=_FINISH.get(reason, reason) if reason else None,
                    )
        except httpx.TransportError as exc:
            raise ReplicaUnreachable(f"connection failed: {exc}", replica=self.url) from exc
        except (ValueError, KeyError, IndexError) as exc:
            raise GenerationError(f"unreadable completion event: {exc}", replica=self.url) from exc

    async def info(self) -> ModelInfo:
        """Model limits from `/v1/models` (vLLM reports `max_model_len`)."""
        try:
            response = await self._client().get("/v1/models")
        except httpx.TransportError as exc:
            raise ReplicaUnreachable(f"/v1/models: {exc}", replica=self.url) from exc
        if response.status_code >= 400:
            raise error_for_status(response.status_code, response.text[:200], self.url)
        for entry in response.json().get("data", []):
            if entry.get("id") == self.model and isinstance(entry.get("max_model_len"), int):
                length = entry["max_model_len"]
                return ModelInfo(self.model, max_input_tokens=length - 1, max_total_tokens=length)
        raise GenerationError(
            f"/v1/models does not report limits for {self.model}", replica=self.url
        )

    async def tokenize(self, text: str) -> Sequence[int] | None:
        """None: the OpenAI API has no tokenizer endpoint, callers estimate."""
        return None

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
