"""Every way a TGI request fails becomes one error of the bloombridge tree."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import (
    GenerationError,
    ModelError,
    OverloadedError,
    ReplicaUnreachable,
    StreamInterrupted,
    UnhealthyError,
    ValidationError,
)
from core.generation.base import GenerationParams
from core.generation.tgi import TgiGenerator
from tests.fakes.tgi import FakeTGI, Script, TgiFailure, dead_url


async def drain(generator: TgiGenerator) -> str:
    return "".join([token.text async for token in generator.stream("x", GenerationParams())])


@pytest.mark.parametrize(
    ("failure", "error_class"),
    [
        (
            TgiFailure.validation("`inputs` must have less than 1024 tokens. Given: 2000"),
            ValidationError,
        ),
        (TgiFailure.generation(), ModelError),
        (TgiFailure.overloaded(), OverloadedError),
        (TgiFailure.unhealthy(), UnhealthyError),
    ],
)
@pytest.mark.parametrize("as_status", [False, True], ids=["as-tgi-sends-it", "as-http-status"])
async def test_error_before_the_first_token_maps_to_its_class(
    tgi: FakeTGI,
    generator: TgiGenerator,
    failure: TgiFailure,
    error_class: type[GenerationError],
    as_status: bool,
) -> None:
    tgi.default = Script(failure=failure, failure_as_status=as_status)
    with pytest.raises(error_class) as caught:
        await drain(generator)
    assert type(caught.value) is error_class
    assert caught.value.replica == tgi.url
    assert failure.error in str(caught.value)


async def test_tgi_errors_on_a_stream_arrive_as_events_on_http_200(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    tgi.default = Script(failure=TgiFailure.overloaded())
    with pytest.raises(OverloadedError):
        await drain(generator)
    # The fake answered 200 with an SSE error event: the stream was opened, no token sent.
    assert tgi.streams[0].tokens_sent == 0 and not tgi.streams[0].completed


async def test_server_side_validation_error_is_a_validation_error(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    long_prompt = "word " * 1500  # over the fake's max_input_tokens
    with pytest.raises(ValidationError, match="must have less than 1024 tokens"):
        [t async for t in generator.stream(long_prompt, GenerationParams())]


async def test_error_event_mid_stream_interrupts_counting_the_partial_text(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    tgi.default = Script(reply="one two three four", failure=TgiFailure.generation(), fail_after=2)
    with pytest.raises(StreamInterrupted) as caught:
        await drain(generator)
    assert caught.value.delivered_chars == len("one two")
    assert isinstance(caught.value.__cause__, ModelError)
    assert caught.value.replica == tgi.url


async def test_connection_drop_mid_stream_interrupts_counting_the_partial_text(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    tgi.default = Script(reply="one two three four", drop_after=3)
    with pytest.raises(StreamInterrupted) as caught:
        await drain(generator)
    assert caught.value.delivered_chars == len("one two three")
    assert isinstance(caught.value.__cause__, ReplicaUnreachable)


async def test_connection_drop_before_the_first_token_is_retryable(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    tgi.default = Script(reply="one two", drop_after=0)
    with pytest.raises(ReplicaUnreachable) as caught:
        await drain(generator)
    assert caught.value.retryable


async def test_drop_while_only_a_possible_stop_prefix_was_received_is_still_retryable(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    # "<" might begin "<human>:", so nothing was shown: another replica may safely answer.
    tgi.default = Script(reply=["<", "hu", "llo"], drop_after=2)
    with pytest.raises(ReplicaUnreachable):
        await drain(generator)


async def test_a_first_token_slower_than_allowed_is_busy_and_the_request_leaves(
    tgi: FakeTGI,
) -> None:
    never = asyncio.Event()
    tgi.default = Script(hang=never)
    async with TgiGenerator(tgi.url, first_token_timeout=0.2) as generator:
        # TGI queues requests it has no room for: a slow first token means busy, not broken.
        with pytest.raises(OverloadedError, match=r"no token within 0\.2s"):
            await drain(generator)
    record = tgi.streams[0]
    await asyncio.wait_for(record.finished.wait(), 5)
    assert record.disconnected


async def test_connection_refused_is_unreachable() -> None:
    url = dead_url()
    async with TgiGenerator(url, connect_timeout=2.0) as generator:
        with pytest.raises(ReplicaUnreachable) as caught:
            await drain(generator)
        assert caught.value.replica == url
        assert not await generator.health()
        with pytest.raises(ReplicaUnreachable):
            await generator.info()


async def test_error_of_unknown_type_maps_by_http_status(
    tgi: FakeTGI, generator: TgiGenerator
) -> None:
    tgi.default = Script(failure=TgiFailure(502, "Bad Gateway", "gateway"), failure_as_status=True)
    with pytest.raises(UnhealthyError):
        await drain(generator)
