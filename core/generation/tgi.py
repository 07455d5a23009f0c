"""The TGI backend: one Text Generation Inference server, streamed through huggingface_hub."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterable, Sequence
from contextlib import AsyncExitStack, aclosing
from dataclasses import dataclass
from typing import Any, Self, cast
from urllib.parse import urlsplit, urlunsplit

import httpx
import httpx2
from huggingface_hub import AsyncInferenceClient, TextGenerationStreamOutput
from huggingface_hub import errors as hf_errors

from core.errors import (
    GenerationError,
    ModelError,
    OverloadedError,
    ReplicaUnreachable,
    StreamInterrupted,
    UnhealthyError,
    ValidationError,
)
from core.generation.base import GenerationParams, ModelInfo, Token
from core.generation.stops import trim_stop_text

# huggingface_hub sends the machine's Hugging Face token (env, token file, OIDC) when it is given
# none. A placeholder keeps it from looking one up; the authorization header is then set by us,
# or removed (the library drops headers whose value is None).
_NO_TOKEN = "-"


def display_url(url: str) -> str:
    """`url` without user name or password, fit for logs and status pages."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class _Sampling:
    """TGI's generation parameters for one request, checked against TGI's rules."""

    max_new_tokens: int
    repetition_penalty: float
    do_sample: bool
    temperature: float | None
    top_p: float | None
    stop: list[str]
    seed: int | None

    @classmethod
    def from_params(cls, params: GenerationParams) -> _Sampling:
        """TGI wants temperature > 0 and 0 < top_p < 1: temperature 0 means greedy decoding
        (no sampling parameters sent) and top_p 1 means no nucleus filtering (top_p not sent)."""
        if params.max_new_tokens < 1:
            raise ValidationError(f"max_new_tokens must be at least 1, not {params.max_new_tokens}")
        if params.repetition_penalty <= 0:
            raise ValidationError(
                f"repetition_penalty must be above 0 (1 is no penalty), not {params.repetition_penalty}"
            )
        if params.temperature < 0:
            raise ValidationError(
                f"temperature must be 0 (greedy) or above, not {params.temperature}"
            )
        if not 0 < params.top_p <= 1:
            raise ValidationError(f"top_p must be above 0 and at most 1, not {params.top_p}")
        greedy = params.temperature == 0
        return cls(
            max_new_tokens=params.max_new_tokens,
            repetition_penalty=params.repetition_penalty,
            do_sample=not greedy,
            temperature=None if greedy else params.temperature,
            top_p=None if greedy or params.top_p == 1 else params.top_p,
            stop=[stop for stop in params.stop if stop],
            seed=params.seed,
        )


def error_for_status(status: int, detail: str, replica: str) -> GenerationError:
    """The bloombridge error for an HTTP error status of a TGI server (or a gateway before it)."""
    if status == 422:
        return ValidationError(detail, replica=replica)
    if status == 424:
        return ModelError(detail, replica=replica)
    if status == 429:
        return OverloadedError(detail, replica=replica)
    if status in (500, 502, 503, 504):
        return UnhealthyError(detail, replica=replica)
    return GenerationError(f"unexpected HTTP {status}: {detail}", replica=replica)


def _translate(exc: Exception, replica: str) -> GenerationError:
    """Map what huggingface_hub and httpx2 raise onto the bloombridge error tree."""
    detail = str(exc).strip() or type(exc).__name__
    if isinstance(exc, hf_errors.ValidationError):
        return ValidationError(detail, replica=replica)
    if isinstance(exc, hf_errors.OverloadedError):
        return OverloadedError(detail, replica=replica)
    if isinstance(exc, hf_errors.GenerationError | hf_errors.IncompleteGenerationError):
        return ModelError(detail, replica=replica)
    http_error = exc if isinstance(exc, hf_errors.HfHubHTTPError) else exc.__cause__
    if isinstance(http_error, hf_errors.HfHubHTTPError) and http_error.response is not None:
        # An error without a known TGI error_type (e.g. 503 from a gateway): the status decides.
        return error_for_status(http_error.response.status_code, detail.splitlines()[0], replica)
    if isinstance(exc, TimeoutError | httpx2.TransportError):
        return ReplicaUnreachable(f"connection failed: {detail}", replica=replica)
    if isinstance(exc, hf_errors.TextGenerationError | ValueError):
        # UnknownError from an SSE error event, or an event that is not valid JSON.
        return ModelError(detail, replica=replica)
    return GenerationError(detail, replica=replica)


class _BorrowedSessionClient(AsyncInferenceClient):
    """An inference client that uses a long-lived HTTP session instead of opening its own.

    huggingface_hub keeps every streamed response open until the client is closed, so each
    stream gets its own client, closed when the stream ends; borrowing the session spares a new
    connection pool and TLS context per request. Closing it leaves the session open.
    """

    def __init__(self, session: httpx2.AsyncClient, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._borrowed_session = session

    async def _get_async_client(self) -> httpx2.AsyncClient:
        return self._borrowed_session


class TgiGenerator:
    """A `TextGenerator` for one TGI server; use as an async context manager.

    `connect_timeout` bounds connecting and receiving response headers; `first_token_timeout`
    bounds the wait for the first token (TGI queues requests when busy); `token_timeout` bounds
    the silence between later tokens; `request_timeout` bounds /info, /tokenize and /health.
    """

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = 5.0,
        first_token_timeout: float = 60.0,
        token_timeout: float = 30.0,
        request_timeout: float = 10.0,
        api_token: str | None = None,
    ) -> None:
        self._url = url.rstrip("/")
        self.url = display_url(self._url)
        self._connect_timeout = connect_timeout
        self._first_token_timeout = first_token_timeout
        self._token_timeout = token_timeout
        self._request_timeout = request_timeout
        self._api_token = api_token
        self._resources = AsyncExitStack()
        self._session: httpx2.AsyncClient | None = None
        self._http: httpx.AsyncClient | None = None
        self._info: ModelInfo | None = None
        self._tokenize_supported = True

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._resources.aclose()
        self._session = None
        self._http = None

    # --- streaming -------------------------------------------------------------------------

    async def stream(self, prompt: str, params: GenerationParams) -> AsyncGenerator[Token, None]:
        """Visible tokens of the reply; the last one carries the finish reason.

        A failure after text was yielded raises `StreamInterrupted` with that text; before any
        text, the specific error (retryable ones may be retried on another replica).
        """
        sampling = _Sampling.from_params(params)
        delivered: list[str] = []
        raw = self._raw_tokens(prompt, sampling)
        try:
            async with aclosing(trim_stop_text(raw, sampling.stop)) as tokens:
                async for token in tokens:
                    if token.text:
                        delivered.append(token.text)
                    yield token
        except GenerationError as exc:
            if not delivered:
                raise
            raise StreamInterrupted(
                f"the reply broke off: {exc}", partial_text="".join(delivered), replica=self.url
            ) from exc

    async def _raw_tokens(self, prompt: str, sampling: _Sampling) -> AsyncGenerator[Token, None]:
        """Every token TGI sends, specials included; failures as `GenerationError`s."""
        client = _BorrowedSessionClient(
            await self._hf_session(),
            model=self._url,
            token=self._api_token or _NO_TOKEN,
            headers=self._auth_headers(),
        )
        try:
            events = await self._open_stream(client, prompt, sampling)
            async with aclosing(cast(AsyncGenerator[TextGenerationStreamOutput, None], events)):
                wait = self._first_token_timeout
                while True:
                    event = await self._next_event(events, wait)
                    wait = self._token_timeout
                    final = event.details is not None or event.generated_text is not None
                    reason = (
                        (event.details.finish_reason if event.details else "eos_token")
                        if final
                        else None
                    )
                    yield Token(
                        text=event.token.text,
                        id=event.token.id,
                        special=event.token.special,
                        finish_reason=reason,
                    )
                    if final:
                        return
        finally:
            # Closes the HTTP response: a stream abandoned early stops generating on the server.
            await client.close()  # type: ignore[no-untyped-call]

    async def _open_stream(
        self, client: AsyncInferenceClient, prompt: str, sampling: _Sampling
    ) -> AsyncIterable[TextGenerationStreamOutput]:
        try:
            async with asyncio.timeout(self._connect_timeout):
                return await client.text_generation(
                    prompt,
                    stream=True,
                    details=True,
                    return_full_text=False,
                    max_new_tokens=sampling.max_new_tokens,
                    repetition_penalty=sampling.repetition_penalty,
                    do_sample=sampling.do_sample,
                    temperature=sampling.temperature,
                    top_p=sampling.top_p,
                    stop=sampling.stop,
                    seed=sampling.seed,
                )
        except TimeoutError as exc:
            raise ReplicaUnreachable(
                f"no response within {self._connect_timeout:g}s", replica=self.url
            ) from exc
        except Exception as exc:
            raise _translate(exc, self.url) from exc

    async def _next_event(
        self, events: AsyncIterable[TextGenerationStreamOutput], wait: float
    ) -> TextGenerationStreamOutput:
        try:
            async with asyncio.timeout(wait):
                return await anext(aiter(events))
        except StopAsyncIteration as exc:
            raise ReplicaUnreachable(
                "the stream ended before the final event", replica=self.url
            ) from exc
        except TimeoutError as exc:
            raise ReplicaUnreachable(f"no token within {wait:g}s", replica=self.url) from exc
        except Exception as exc:
            raise _translate(exc, self.url) from exc

    # --- plain endpoints -------------------------------------------------------------------

    async def info(self) -> ModelInfo:
        """Model id and limits from /info (cached); older servers say `max_input_length`."""
        if self._info is None:
            payload = (await self._call("GET", "/info")).json()
            limit = payload.get("max_input_tokens", payload.get("max_input_length"))
            if not isinstance(limit, int) or not isinstance(payload.get("max_total_tokens"), int):
                raise GenerationError(
                    "/info reports neither max_input_tokens nor max_input_length with max_total_tokens",
                    replica=self.url,
                )
            self._info = ModelInfo(
                model_id=str(payload.get("model_id", "")),
                max_input_tokens=limit,
                max_total_tokens=payload["max_total_tokens"],
            )
        return self._info

    async def tokenize(self, text: str) -> Sequence[int] | None:
        """Token ids from /tokenize, or None when the server has no such route."""
        if not self._tokenize_supported:
            return None
        response = await self._call("POST", "/tokenize", {"inputs": text}, missing_ok=True)
        if response.status_code in (404, 405):
            self._tokenize_supported = False
            return None
        try:
            return [int(piece["id"]) for piece in response.json()]
        except (ValueError, TypeError, KeyError) as exc:
            raise GenerationError(
                "/tokenize answered an unexpected shape", replica=self.url
            ) from exc

    async def health(self) -> bool:
        """Whether /health answers 200 in time."""
        try:
            response = await self._call("GET", "/health")
        except GenerationError:
            return False
        return response.status_code == 200

    async def _call(
        self, method: str, path: str, body: Any = None, *, missing_ok: bool = False
    ) -> httpx.Response:
        http = self._plain_http()
        try:
            response = await http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise ReplicaUnreachable(
                f"{path}: {exc or type(exc).__name__}", replica=self.url
            ) from exc
        if response.status_code >= 400 and not (missing_ok and response.status_code in (404, 405)):
            raise error_for_status(
                response.status_code, f"{path}: {_error_text(response)}", self.url
            )
        return response

    # --- owned HTTP clients ----------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        value = f"Bearer {self._api_token}" if self._api_token else None
        return cast(dict[str, str], {"authorization": value})

    async def _hf_session(self) -> httpx2.AsyncClient:
        # Our own session rather than huggingface_hub's: its request hook refuses every request
        # when HF_HUB_OFFLINE is set, an offline mode meant for the Hub, not for our replicas.
        # No connection cap: the replica says when it is full (429); a local cap would instead
        # queue streams until the connect timeout and blame the replica.
        if self._session is None:
            session = httpx2.AsyncClient(
                timeout=None,
                limits=httpx2.Limits(max_connections=None, max_keepalive_connections=64),
                event_hooks={"response": [_read_error_body]},
            )
            self._session = await self._resources.enter_async_context(session)
        return self._session

    def _plain_http(self) -> httpx.AsyncClient:
        if self._http is None:
            headers = {"authorization": f"Bearer {self._api_token}"} if self._api_token else {}
            timeout = httpx.Timeout(self._request_timeout, connect=self._connect_timeout)
            self._http = httpx.AsyncClient(base_url=self._url, timeout=timeout, headers=headers)
            self._resources.push_async_callback(self._http.aclose)
        return self._http


async def _read_error_body(response: httpx2.Response) -> None:
    """Load an error answer's body so huggingface_hub can parse TGI's error from it."""
    if response.status_code >= 400:
        await response.aread()


def _error_text(response: httpx.Response) -> str:
    """TGI's `error` field, or the start of whatever body came back."""
    try:
        payload = response.json()
    except json.JSONDecodeError:
        return response.text[:200] or response.reason_phrase
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, str):
        return error
    return response.text[:200]
