"""The TGI backend: one Text Generation Inference server over HTTP, streamed with aiohttp.

Streams are read straight from `/generate_stream` (server-sent events parsed by
`core.generation.tgi_events`), with one timeout per phase of a stream rather than per token:
connecting, the first token (TGI queues requests when busy), then the silence between tokens.
Every stream is read to its end so its connection is reused.

aiohttp rather than httpx: its C HTTP parser hands over whatever bytes have arrived in one read
(several events when tokens come faster than they are read), and its connection pool picks an
idle connection in constant time, where httpcore walks every connection for each request and
reads one chunk per token. Measured on the fake TGI (100 concurrent 100-token streams), the
client costs 10-45 µs of CPU per token against 60-500 µs through httpx.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from core.errors import (
    ConnectTimeout,
    GenerationError,
    OverloadedError,
    ReplicaUnreachable,
    ValidationError,
)
from core.generation.base import GenerationParams, ModelInfo, Token
from core.generation.silence import SilenceLimit
from core.generation.streaming import StreamingBackend
from core.generation.tgi_events import SseDecoder, error_for_status, parse_event

__all__ = ["TgiGenerator", "display_url", "error_for_status"]

# Timeouts of each phase of a request, in seconds (bots/settings.py refers to these).
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_FIRST_TOKEN_TIMEOUT = 60.0
DEFAULT_TOKEN_TIMEOUT = 30.0
DEFAULT_REQUEST_TIMEOUT = 10.0


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

    def payload(self) -> dict[str, Any]:
        """TGI's `parameters` object; unset values are left out, as TGI's defaults apply."""
        values = {
            "details": True,
            "return_full_text": False,
            "max_new_tokens": self.max_new_tokens,
            "do_sample": self.do_sample,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "repetition_penalty": self.repetition_penalty,
            "stop": self.stop,
            "seed": self.seed,
        }
        return {name: value for name, value in values.items() if value is not None}


class TgiGenerator(StreamingBackend):
    """A `TextGenerator` for one TGI server; use as an async context manager.

    `connect_timeout` bounds opening a TCP connection;
    `first_token_timeout` bounds the wait from sending a request to its first token (TGI queues
    requests when busy, so running out of it means busy, not broken); `token_timeout` bounds the
    silence between later tokens; `request_timeout` bounds /info, /tokenize and /health.
    """

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        first_token_timeout: float = DEFAULT_FIRST_TOKEN_TIMEOUT,
        token_timeout: float = DEFAULT_TOKEN_TIMEOUT,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        api_token: str | None = None,
    ) -> None:
        self._url = url.rstrip("/")
        self.url = display_url(self._url)
        self._connect_timeout = connect_timeout
        self._first_token_timeout = first_token_timeout
        self._token_timeout = token_timeout
        self._request_timeout = request_timeout
        self._api_token = api_token
        self._http: aiohttp.ClientSession | None = None
        self._info: ModelInfo | None = None
        self._tokenize_supported = True

    @property
    def replica_name(self) -> str:
        return self.url

    async def __aenter__(self) -> Self:
        # The HTTP client (and its TLS context) is built now, not on the first user's message.
        self._client()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    # --- streaming -------------------------------------------------------------------------

    async def _raw_tokens(
        self, prompt: str, params: GenerationParams
    ) -> AsyncGenerator[Token, None]:
        """Every token TGI sends, specials included; failures as `GenerationError`s."""
        sampling = _Sampling.from_params(params)
        body = {"inputs": prompt, "parameters": sampling.payload()}
        decoder = SseDecoder()
        # One deadline from sending the request to its first token, however the wait splits.
        first_token_due = asyncio.get_running_loop().time() + self._first_token_timeout
        async with _OpenStream(self, body, first_token_due) as response:
            # Whatever bytes have arrived, in one piece: several events when tokens come fast.
            chunks = response.content.iter_any()
            pending: list[bytes] = []
            try:
                async with asyncio.timeout_at(first_token_due):
                    while not pending:
                        pending = decoder.feed(await anext(chunks))
            except aiohttp.ClientError as exc:
                raise self._broken(exc) from exc
            except TimeoutError as exc:
                raise OverloadedError(
                    f"no token within {self._first_token_timeout:g}s", replica=self.url
                ) from exc
            except StopAsyncIteration as exc:
                raise self._ended_early() from exc
            with SilenceLimit(self._token_timeout) as silence:
                while True:
                    for data in pending:
                        token = parse_event(data, self.url)
                        if token.finish_reason is not None:
                            # Read the (empty) rest first: a reader stops at the last token,
                            # and only a response read to its end gives its connection back.
                            await self._read_to_end(silence, chunks)
                        yield token
                        if token.finish_reason is not None:
                            return
                    pending = decoder.feed(await self._next_chunk(silence, chunks))

    async def _next_chunk(self, silence: SilenceLimit, chunks: AsyncIterator[bytes]) -> bytes:
        try:
            return await silence.read(chunks)
        except aiohttp.ClientError as exc:
            raise self._broken(exc) from exc
        except TimeoutError as exc:
            raise ReplicaUnreachable(
                f"no token within {silence.limit:g}s", replica=self.url
            ) from exc
        except StopAsyncIteration as exc:
            raise self._ended_early() from exc

    async def _read_to_end(self, silence: SilenceLimit, chunks: AsyncIterator[bytes]) -> None:
        try:
            while True:
                await silence.read(chunks)
        except (StopAsyncIteration, TimeoutError, aiohttp.ClientError):
            return  # the reply is complete; at worst the connection is not reused

    def _ended_early(self) -> ReplicaUnreachable:
        return ReplicaUnreachable("the stream ended before the final event", replica=self.url)

    def _broken(self, exc: aiohttp.ClientError) -> ReplicaUnreachable:
        return ReplicaUnreachable(
            f"the stream broke: {exc or type(exc).__name__}", replica=self.url
        )

    # --- plain endpoints -------------------------------------------------------------------

    async def info(self) -> ModelInfo:
        """Model id and limits from /info (cached); older servers say `max_input_length`."""
        if self._info is None:
            payload = (await self._call("GET", "/info")).json(self.url)
            limit = payload.get("max_input_tokens", payload.get("max_input_length"))
            if not isinstance(limit, int) or not isinstance(payload.get("max_total_tokens"), int):
                raise GenerationError(
                    "/info reports neither max_input_tokens nor max_input_length with max_total_tokens",
                    replica=self.url,
                )
            concurrent = payload.get("max_concurrent_requests")
            self._info = ModelInfo(
                model_id=str(payload.get("model_id", "")),
                max_input_tokens=limit,
                max_total_tokens=payload["max_total_tokens"],
                max_concurrent_requests=concurrent if isinstance(concurrent, int) else None,
            )
        return self._info

    async def tokenize(self, text: str) -> Sequence[int] | None:
        """Token ids from /tokenize, or None when the server has no such route."""
        if not self._tokenize_supported:
            return None
        answer = await self._call("POST", "/tokenize", {"inputs": text}, missing_ok=True)
        if answer.status in (404, 405):
            self._tokenize_supported = False
            return None
        try:
            return [int(piece["id"]) for piece in answer.json(self.url)]
        except (TypeError, KeyError, ValueError, GenerationError) as exc:
            raise GenerationError(
                "/tokenize answered an unexpected shape", replica=self.url
            ) from exc

    async def health(self) -> bool:
        """Whether /health answers 200 in time."""
        try:
            answer = await self._call("GET", "/health")
        except GenerationError:
            return False
        return answer.status == 200

    async def _call(
        self, method: str, path: str, body: Any = None, *, missing_ok: bool = False
    ) -> _Answer:
        http = self._client()
        try:
            async with http.request(method, self._url + path, json=body) as response:
                answer = _Answer(response.status, await response.read(), response.reason or "")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ReplicaUnreachable(
                f"{path}: {exc or type(exc).__name__}", replica=self.url
            ) from exc
        if answer.status >= 400 and not (missing_ok and answer.status in (404, 405)):
            raise error_for_status(answer.status, f"{path}: {answer.error_text()}", self.url)
        return answer

    # --- owned HTTP client -----------------------------------------------------------------

    def _client(self) -> aiohttp.ClientSession:
        # No connection cap (limit 0): the replica pool keeps in-flight requests within what the
        # replica says it takes (/info), so a local cap would only queue streams and blame the
        # replica.
        if self._http is None:
            headers = {"authorization": f"Bearer {self._api_token}"} if self._api_token else {}
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                headers=headers,
                timeout=aiohttp.ClientTimeout(
                    total=self._request_timeout, sock_connect=self._connect_timeout
                ),
            )
        return self._http


@dataclass(frozen=True)
class _Answer:
    """A plain endpoint's answer, read whole."""

    status: int
    body: bytes
    reason: str

    def json(self, replica: str) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise GenerationError(
                f"HTTP {self.status} with a body that is not JSON: {self.text()[:80]!r}",
                replica=replica,
            ) from exc

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def error_text(self) -> str:
        """TGI's `error` field, or the start of whatever body came back."""
        try:
            payload = json.loads(self.body)
        except ValueError:
            return self.text()[:200] or self.reason
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, str):
            return error
        return self.text()[:200]


# Uncompressed, so the raw bytes are the events.
_STREAM_HEADERS = {"accept": "text/event-stream", "accept-encoding": "identity"}
# Bytes of a stream read ahead of its reader (aiohttp stops reading the socket at twice this):
# a reader that falls behind leaves the rest in the socket and TGI waits, so a reply in flight
# holds at most this much of its stream, however long the reply (about 50 events).
STREAM_READ_BUFFER = 8 * 1024


class _OpenStream:
    """`async with`: a `/generate_stream` response with a success status, closed on exit.

    Closing a response that was not read to its end drops the connection, which is how TGI
    learns to stop generating for a reader that left.
    """

    def __init__(self, generator: TgiGenerator, body: dict[str, Any], due: float) -> None:
        self._generator = generator
        self._body = body
        self._due = due
        self._response: aiohttp.ClientResponse | None = None

    async def __aenter__(self) -> aiohttp.ClientResponse:
        generator = self._generator
        http = generator._client()
        # No read timeout: SilenceLimit and the first-token deadline bound the reads.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=generator._connect_timeout)
        try:
            async with asyncio.timeout_at(self._due):
                response = await http.post(
                    generator._url + "/generate_stream",
                    json=self._body,
                    headers=_STREAM_HEADERS,
                    timeout=timeout,
                    read_bufsize=STREAM_READ_BUFFER,
                )
        except aiohttp.ServerTimeoutError as exc:
            # Before TimeoutError (it is one): with no read timeout, only connecting timed out.
            raise ConnectTimeout(
                f"no connection within {generator._connect_timeout:g}s", replica=generator.url
            ) from exc
        except TimeoutError as exc:
            raise OverloadedError(
                f"no answer within {generator._first_token_timeout:g}s", replica=generator.url
            ) from exc
        except aiohttp.ClientError as exc:
            raise ReplicaUnreachable(
                f"connection failed: {exc or type(exc).__name__}", replica=generator.url
            ) from exc
        self._response = response
        if response.status >= 400:
            try:
                answer = _Answer(response.status, await response.read(), response.reason or "")
            except aiohttp.ClientError as exc:
                raise generator._broken(exc) from exc
            finally:
                response.close()
            raise error_for_status(answer.status, answer.error_text(), generator.url)
        return response

    async def __aexit__(self, *exc_info: object) -> None:
        if self._response is not None:
            # A response read to its end has given its connection back already.
            self._response.close()
