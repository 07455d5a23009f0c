"""TGI's streamed events: server-sent event framing and the JSON of one event, read with plain `json`.

A `/generate_stream` answer is `data:{json}\\n\\n` per token; the last event carries
`generated_text` and `details.finish_reason`; a TGI error arrives as `data:{"error", "error_type"}`
on HTTP 200. Reading these straight into a `Token` costs a few microseconds a token, where a generic
object parser costs tens.
"""

from __future__ import annotations

import json
from typing import Any

from core.errors import (
    GenerationError,
    ModelError,
    OverloadedError,
    UnhealthyError,
    ValidationError,
)
from core.generation.base import Token

# TGI's `error_type` names (router/src/infer/mod.rs, server.rs) and the error each one is.
_ERROR_TYPES: dict[str, type[GenerationError]] = {
    "validation": ValidationError,
    "overloaded": OverloadedError,
    "generation": ModelError,
    "incomplete_generation": ModelError,
    "healthcheck": UnhealthyError,
}


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


def error_from_payload(payload: Any, replica: str) -> GenerationError | None:
    """The error a TGI `{"error", "error_type"}` object reports, or None if it is no error."""
    if not isinstance(payload, dict) or "error" not in payload:
        return None
    detail = str(payload.get("error") or "unknown error")
    kind = _ERROR_TYPES.get(str(payload.get("error_type")), ModelError)
    return kind(detail, replica=replica)


# `json.loads` of bytes first guesses their encoding; SSE is UTF-8, and decoding it here and
# parsing the text with one decoder costs about two thirds as much per event.
_decode_json = json.JSONDecoder().decode


def parse_event(data: bytes, replica: str) -> Token:
    """The token in one SSE `data` payload (its finish reason set on the last event only); an
    error event raises its `GenerationError`."""
    try:
        payload = _decode_json(data.decode())
        error = error_from_payload(payload, replica)
        if error is not None:
            raise error
        token = payload["token"]
        details = payload.get("details")
        final = details is not None or payload.get("generated_text") is not None
        reason = (details.get("finish_reason") if details else None) or "eos_token"
        return Token(
            token["text"],
            token.get("id"),
            bool(token.get("special", False)),
            reason if final else None,
        )
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ModelError(f"unreadable stream event: {data[:120]!r}", replica=replica) from exc


class SseDecoder:
    """Splits a byte stream into the `data` payloads of complete server-sent events."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """Payloads of the events completed by `chunk` (events without data are skipped)."""
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buffer = self._buffer + chunk
        *complete, self._buffer = buffer.split(b"\n\n")
        payloads = []
        for block in complete:
            if block.startswith(b"data:") and b"\n" not in block:
                payloads.append(block[5:])  # the usual case: one data line
                continue
            lines = [line[5:] for line in block.split(b"\n") if line.startswith(b"data:")]
            if lines:
                payloads.append(b"\n".join(line.removeprefix(b" ") for line in lines))
        return payloads
