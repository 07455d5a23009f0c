"""TgiGenerator streams over real HTTP from the fake TGI: text, parameters, stop text, closing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from core.errors import ValidationError
from core.generation.base import HUMAN_STOP, GenerationParams, TextGenerator, Token
from core.generation.tgi import TgiGenerator, display_url
from tests.fakes.tgi import FakeTGI, Script


async def collect(tokens: AsyncIterator[Token]) -> list[Token]:
    return [token async for token in tokens]


async def test_streams_the_reply_and_ends_with_the_finish_reason(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    tgi.default = Script(reply=["Bonjour", " !", " Ça", " va", " ?"])
    tokens = await collect(generator.stream("<human>: salut\n<bot>:", GenerationParams()))
    assert "".join(t.text for t in tokens) == "Bonjour ! Ça va ?"
    assert tokens[-1].finish_reason == "eos_token" and tokens[-1].text == ""  # </s> is not shown
    assert all(t.finish_reason is None for t in tokens[:-1])
    assert isinstance(generator, TextGenerator)


async def test_sends_explicit_generation_parameters_to_generate_stream(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    params = GenerationParams(
        max_new_tokens=64, temperature=0.7, top_p=0.85, repetition_penalty=1.3, seed=11
    )
    await collect(generator.stream("<human>: hi\n<bot>:", params))
    [request] = tgi.generation_requests()
    assert request.path == "/generate_stream"
    assert request.body == {
        "inputs": "<human>: hi\n<bot>:",
        "parameters": {
            "details": True,
            "return_full_text": False,
            "max_new_tokens": 64,
            "do_sample": True,
            "temperature": 0.7,
            "top_p": 0.85,
            "repetition_penalty": 1.3,
            "stop": [HUMAN_STOP],
            "seed": 11,
        },
    }


async def test_temperature_zero_is_greedy_and_top_p_one_is_not_sent(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    await collect(generator.stream("x", GenerationParams(temperature=0.0)))
    await collect(generator.stream("x", GenerationParams(top_p=1.0)))
    greedy, no_nucleus = (r.body["parameters"] for r in tgi.generation_requests())
    assert greedy["do_sample"] is False and "temperature" not in greedy and "top_p" not in greedy
    assert no_nucleus["do_sample"] is True and "top_p" not in no_nucleus
    assert no_nucleus["temperature"] == 0.8


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (GenerationParams(top_p=0.0), "top_p"),
        (GenerationParams(top_p=1.5), "top_p"),
        (GenerationParams(temperature=-1.0), "temperature"),
        (GenerationParams(max_new_tokens=0), "max_new_tokens"),
        (GenerationParams(repetition_penalty=0.0), "repetition_penalty"),
    ],
)
async def test_impossible_parameters_are_rejected_before_any_request(
    tgi: FakeTGI, generator: TgiGenerator, params: GenerationParams, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        await collect(generator.stream("x", params))
    assert tgi.generation_requests() == []


async def test_stop_text_split_across_tokens_is_trimmed(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    tgi.default = Script(reply="Sure, here it is.\n<human>: and then")
    tokens = await collect(generator.stream("x", GenerationParams()))
    assert "".join(t.text for t in tokens) == "Sure, here it is.\n"
    assert not any("<" in t.text for t in tokens)
    assert tokens[-1].finish_reason == "stop_sequence"
    assert tgi.streams[0].completed  # TGI itself stopped on the boundary


async def test_stop_text_inside_a_token_stops_the_stream_on_the_server(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    # TGI only checks stop texts at token ends, so it would go on generating here.
    never = asyncio.Event()
    tgi.default = Script(reply=["Done", ".\n<hu", "man>: and", " more"], hang=never, hang_after=3)
    tokens = await collect(generator.stream("x", GenerationParams()))
    assert [t.text for t in tokens] == ["Done", ".\n", ""]
    assert tokens[-1].finish_reason == "stop_sequence"
    record = tgi.streams[0]
    await asyncio.wait_for(record.finished.wait(), 5)
    assert record.disconnected and record.tokens_sent == 3


async def test_a_prefix_of_the_stop_text_is_held_then_released(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    tgi.default = Script(reply=["Use", " <", "hum", "an", "> tags"])
    tokens = await collect(generator.stream("x", GenerationParams()))
    assert [t.text for t in tokens] == ["Use", " ", "<human> tags", ""]


async def test_max_new_tokens_ends_with_length(tgi: FakeTGI, generator: TgiGenerator) -> None:
    tgi.default = Script(reply="one two three four five")
    tokens = await collect(generator.stream("x", GenerationParams(max_new_tokens=3)))
    assert "".join(t.text for t in tokens) == "one two three"
    assert tokens[-1].finish_reason == "length"


async def test_closing_the_stream_early_disconnects_from_the_server(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    never = asyncio.Event()
    tgi.default = Script(reply="one two three four", hang=never, hang_after=2)
    stream = generator.stream("x", GenerationParams())
    assert (await anext(stream)).text == "one"
    assert (await anext(stream)).text == " two"
    await stream.aclose()
    record = tgi.streams[0]
    await asyncio.wait_for(record.finished.wait(), 5)
    assert record.disconnected and not record.completed
    assert record.tokens_sent == 2


async def test_no_hugging_face_token_reaches_the_replica_unless_configured(
    tgi: FakeTGI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_machine_token")
    async with TgiGenerator(tgi.url) as plain:
        await collect(plain.stream("x", GenerationParams()))
    async with TgiGenerator(tgi.url, api_token="endpoint-token") as authed:
        await collect(authed.stream("x", GenerationParams()))
        await authed.info()
    plain_request, authed_request = tgi.generation_requests()
    assert "Authorization" not in plain_request.headers
    assert authed_request.headers["Authorization"] == "Bearer endpoint-token"
    assert tgi.requests[-1].path == "/info"
    assert tgi.requests[-1].headers["Authorization"] == "Bearer endpoint-token"


def test_display_url_hides_credentials() -> None:
    assert (
        display_url("https://user:secret@tgi.internal:8080/base")
        == "https://tgi.internal:8080/base"
    )
    assert TgiGenerator("http://a:b@host:1/").url == "http://host:1"


async def test_many_concurrent_streams_are_not_queued_behind_a_local_connection_cap(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    release = asyncio.Event()
    tgi.default = Script(reply="ok", hang=release)
    streams = [
        asyncio.create_task(collect(generator.stream("x", GenerationParams()))) for _ in range(150)
    ]
    await tgi.wait_for_requests(150)  # all are at the server at once
    release.set()
    replies = await asyncio.gather(*streams)
    assert all("".join(t.text for t in reply) == "ok" for reply in replies)


async def test_streams_read_to_their_end_reuse_one_connection(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    for _ in range(3):
        await collect(generator.stream("x", GenerationParams()))
    peers = {request.peer for request in tgi.generation_requests()}
    assert len(peers) == 1 and "" not in peers
