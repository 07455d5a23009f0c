"""The fake TGI server answers in TGI's wire format, read here with a raw HTTP client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.fakes.tgi import FakeInfo, FakeTGI, GenerateCall, Script, TgiFailure, fake_tokenize


async def sse_events(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> list[Any]:
    events = []
    async with client.stream("POST", path, json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        raw = (await response.aread()).decode()
    for block in raw.split("\n\n"):
        if block:
            assert block.startswith("data:{")  # TGI writes no space after the colon
            events.append(json.loads(block.removeprefix("data:")))
    return events


async def test_stream_events_end_with_generated_text_and_details() -> None:
    async with (
        FakeTGI(default=Script(reply=["Hi", " there"])) as tgi,
        httpx.AsyncClient(base_url=tgi.url) as client,
    ):
        events = await sse_events(
            client, "/generate_stream", {"inputs": "hello", "parameters": {"details": True}}
        )
    assert [e["token"]["text"] for e in events] == ["Hi", " there", "</s>"]
    assert [e["index"] for e in events] == [1, 2, 3]
    assert events[0]["generated_text"] is None and events[0]["details"] is None
    assert events[-1]["token"] == {"id": 2, "text": "</s>", "logprob": -0.25, "special": True}
    assert events[-1]["generated_text"] == "Hi there"
    assert events[-1]["details"] == {
        "finish_reason": "eos_token",
        "generated_tokens": 3,
        "seed": 42,
        "input_length": 1,
    }


async def test_stop_sequence_stays_in_output_and_max_new_tokens_ends_with_length() -> None:
    reply = "Sure.\n<human>: more"
    async with (
        FakeTGI(default=Script(reply=reply)) as tgi,
        httpx.AsyncClient(base_url=tgi.url) as client,
    ):
        stopped = await sse_events(
            client, "/", {"inputs": "x", "stream": True, "parameters": {"stop": ["<human>:"]}}
        )
        limited = await sse_events(
            client, "/", {"inputs": "x", "stream": True, "parameters": {"max_new_tokens": 2}}
        )
    assert stopped[-1]["generated_text"] == "Sure.\n<human>:"
    assert stopped[-1]["details"]["finish_reason"] == "stop_sequence"
    assert limited[-1]["generated_text"] == "Sure."
    assert limited[-1]["details"]["finish_reason"] == "length"
    assert len(limited) == 2


async def test_errors_on_a_stream_are_events_on_http_200_except_503() -> None:
    async with FakeTGI() as tgi, httpx.AsyncClient(base_url=tgi.url) as client:
        tgi.enqueue(
            Script(failure=TgiFailure.overloaded()),
            Script(failure=TgiFailure.generation(), fail_after=2),
        )
        overloaded = await sse_events(client, "/generate_stream", {"inputs": "x"})
        mid_stream = await sse_events(client, "/generate_stream", {"inputs": "x"})
        tgi.enqueue(Script(failure=TgiFailure.unhealthy()))
        unhealthy = await client.post("/generate_stream", json={"inputs": "x"})
        invalid = await sse_events(
            client, "/generate_stream", {"inputs": "x", "parameters": {"top_p": 1.0}}
        )
        invalid_plain = await client.post(
            "/generate", json={"inputs": "x", "parameters": {"temperature": 0}}
        )
    assert overloaded == [{"error": "Model is overloaded", "error_type": "overloaded"}]
    assert len(mid_stream) == 3 and mid_stream[-1]["error_type"] == "generation"
    assert unhealthy.status_code == 503 and unhealthy.json()["error_type"] == "healthcheck"
    assert invalid == [
        {
            "error": "Input validation error: `top_p` must be > 0.0 and < 1.0",
            "error_type": "validation",
        }
    ]
    assert invalid_plain.status_code == 422
    assert (
        invalid_plain.json()["error"]
        == "Input validation error: `temperature` must be strictly positive"
    )


async def test_compat_route_without_stream_answers_a_one_element_list() -> None:
    async with (
        FakeTGI(default=Script(reply="One two")) as tgi,
        httpx.AsyncClient(base_url=tgi.url) as client,
    ):
        listed = (
            await client.post("/", json={"inputs": "x", "parameters": {"details": True}})
        ).json()
        plain = (await client.post("/generate", json={"inputs": "x"})).json()
    assert isinstance(listed, list) and len(listed) == 1
    assert listed[0]["generated_text"] == "One two"
    assert listed[0]["details"]["finish_reason"] == "eos_token"
    assert plain["generated_text"] == "One two"


async def test_info_tokenize_and_health_are_configurable() -> None:
    legacy = FakeInfo(max_input_tokens=900, max_total_tokens=1000, legacy_names=True)
    async with (
        FakeTGI(info=legacy, tokenize_enabled=False) as tgi,
        httpx.AsyncClient(base_url=tgi.url) as client,
    ):
        info = (await client.get("/info")).json()
        missing = await client.post("/tokenize", json={"inputs": "a b"})
        tgi.healthy = False
        down = await client.get("/health")
        tgi.healthy = True
        up = await client.get("/health")
    assert info["max_input_length"] == 900 and "max_input_tokens" not in info
    assert info["max_total_tokens"] == 1000
    assert missing.status_code == 404
    assert down.status_code == 503 and down.json() == {
        "error": "unhealthy",
        "error_type": "healthcheck",
    }
    assert up.status_code == 200 and up.content == b""

    async with FakeTGI() as tgi, httpx.AsyncClient(base_url=tgi.url) as client:
        tokens = (await client.post("/tokenize", json={"inputs": "<human>: hi"})).json()
    assert (
        [t["text"] for t in tokens]
        == fake_tokenize("<human>: hi")
        == ["<", "human", ">", ":", " hi"]
    )
    assert tokens[-1]["start"] == 8 and tokens[-1]["stop"] == 11


async def test_a_client_leaving_a_held_stream_is_recorded_as_disconnected() -> None:
    release = asyncio.Event()
    async with FakeTGI(default=Script(reply="a b c d", hang=release, hang_after=1)) as tgi:
        async with (
            httpx.AsyncClient(base_url=tgi.url) as client,
            client.stream("POST", "/generate_stream", json={"inputs": "x"}) as response,
        ):
            lines = response.aiter_lines()
            assert (await anext(lines)).startswith("data:")
        record = tgi.streams[0]
        await asyncio.wait_for(record.finished.wait(), 5)
    assert record.disconnected and not record.completed
    assert record.tokens_sent == 1


async def test_responder_answers_per_prompt_and_requests_are_recorded() -> None:
    def responder(call: GenerateCall) -> Script:
        return Script(reply=call.inputs.upper())

    async with FakeTGI(responder=responder) as tgi, httpx.AsyncClient(base_url=tgi.url) as client:
        answer = (
            await client.post("/generate", json={"inputs": "shout", "parameters": {"seed": 7}})
        ).json()
        await tgi.wait_for_requests(1)
    assert answer["generated_text"] == "SHOUT"
    assert tgi.requests[0].path == "/generate"
    assert tgi.requests[0].body == {"inputs": "shout", "parameters": {"seed": 7}}


@pytest.mark.parametrize("drop_after", [0, 2])
async def test_dropped_connection_leaves_the_chunked_body_unfinished(drop_after: int) -> None:
    async with FakeTGI(default=Script(reply="a b c d", drop_after=drop_after)) as tgi:
        async with httpx.AsyncClient(base_url=tgi.url) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                async with client.stream(
                    "POST", "/generate_stream", json={"inputs": "x"}
                ) as response:
                    await response.aread()
        assert tgi.streams[0].tokens_sent == drop_after
