"""Scripts for the fake TGI server: what a request gets, TGI's errors and /info, the fake tokenizer."""

from __future__ import annotations

import asyncio
import re
import socket
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

EOS_TEXT = "</s>"
EOS_ID = 2  # BLOOM's </s>
_PIECES = re.compile(r"\s*\w+|\s*[^\w\s]|\s+")


def fake_tokenize(text: str) -> list[str]:
    """The fake's tokenizer: words with their leading space, punctuation one character each.

    "<human>:" becomes "<", "human", ">", ":" so stop texts land across token boundaries.
    """
    return _PIECES.findall(text)


def fake_token_id(piece: str) -> int:
    """A stable id for a piece of text (ids 0-2 are left to special tokens)."""
    return 3 + zlib.crc32(piece.encode()) % 250_000


def dead_url() -> str:
    """A loopback URL on which nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass(frozen=True)
class TgiFailure:
    """An error as TGI reports it: HTTP status and the `{"error", "error_type"}` body."""

    status: int
    error: str
    error_type: str

    @classmethod
    def validation(cls, detail: str = "`inputs` cannot be empty") -> TgiFailure:
        return cls(422, f"Input validation error: {detail}", "validation")

    @classmethod
    def generation(cls, detail: str = "CUDA out of memory") -> TgiFailure:
        return cls(424, f"Request failed during generation: {detail}", "generation")

    @classmethod
    def overloaded(cls) -> TgiFailure:
        return cls(429, "Model is overloaded", "overloaded")

    @classmethod
    def unhealthy(cls) -> TgiFailure:
        return cls(503, "unhealthy", "healthcheck")

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_type": self.error_type}


@dataclass
class Script:
    """What the fake does for one generation request.

    `reply` is the model's text, as a list of token strings or a string cut by `fake_tokenize`.
    `failure` happens after `fail_after` tokens on a stream, or before the last event if the
    reply is shorter (as an SSE event on HTTP 200, the
    way TGI sends its errors; a 503 or `failure_as_status` answers with the HTTP status instead,
    like a gateway in front of TGI). `drop_after` closes the connection after that many tokens.
    `hang` holds the reply before token `hang_after` until the event is set or the client leaves;
    `pause` does the same before token `pause_after`, for a reply that stops twice.
    """

    reply: str | Sequence[str] = "Hello from the fake model."
    token_delay: float = 0.0
    failure: TgiFailure | None = None
    fail_after: int = 0
    failure_as_status: bool = False
    drop_after: int | None = None
    hang: asyncio.Event | None = None
    hang_after: int = 0
    pause: asyncio.Event | None = None
    pause_after: int = 0
    seed: int = 42

    def tokens(self) -> list[str]:
        return fake_tokenize(self.reply) if isinstance(self.reply, str) else list(self.reply)


@dataclass(frozen=True)
class GenerateCall:
    """A parsed generation request, handed to a responder."""

    path: str
    inputs: str
    parameters: Mapping[str, Any]
    stream: bool


Responder = Callable[[GenerateCall], Script]


@dataclass(frozen=True)
class FakeInfo:
    """What `/info` reports; `legacy_names` uses the field names of TGI before 2.0."""

    model_id: str = "sambanovasystems/BLOOMChat-176B-v1"
    max_input_tokens: int = 1024
    max_total_tokens: int = 2048
    max_stop_sequences: int = 4
    max_concurrent_requests: int = 128  # TGI's default
    legacy_names: bool = False

    def payload(self) -> dict[str, Any]:
        common: dict[str, Any] = {
            "model_id": self.model_id,
            "model_sha": "cd6ae2b3dc9a8bd0b5fbd4e7a8c3a0e4f1b2c3d4",
            "model_pipeline_tag": "text-generation",
            "max_concurrent_requests": self.max_concurrent_requests,
            "max_best_of": 2,
            "max_stop_sequences": self.max_stop_sequences,
            "max_total_tokens": self.max_total_tokens,
            "validation_workers": 2,
            "router": "text-generation-router",
            "sha": None,
            "docker_label": None,
        }
        if self.legacy_names:
            return common | {
                "model_dtype": "torch.float16",
                "model_device_type": "cuda",
                "max_input_length": self.max_input_tokens,
                "waiting_served_ratio": 1.2,
                "max_batch_total_tokens": 32000,
                "max_waiting_tokens": 20,
                "version": "1.4.5",
            }
        return common | {
            "max_input_tokens": self.max_input_tokens,
            "max_client_batch_size": 4,
            "version": "2.4.1",
        }
