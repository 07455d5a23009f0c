"""TgiGenerator's /info, /tokenize and /health calls against the fake TGI."""

from __future__ import annotations

import pytest

from core.errors import GenerationError
from core.generation.base import ModelInfo
from core.generation.tgi import TgiGenerator
from tests.fakes.tgi import FakeInfo, FakeTGI, fake_token_id, fake_tokenize


@pytest.mark.parametrize(
    "legacy_names", [False, True], ids=["max_input_tokens", "max_input_length"]
)
async def test_info_reads_either_field_name_and_is_cached(legacy_names: bool) -> None:
    info = FakeInfo(max_input_tokens=1000, max_total_tokens=2048, legacy_names=legacy_names)
    async with FakeTGI(info=info) as tgi, TgiGenerator(tgi.url) as generator:
        first = await generator.info()
        second = await generator.info()
    assert first == second == ModelInfo("sambanovasystems/BLOOMChat-176B-v1", 1000, 2048, 128)
    assert [r.path for r in tgi.requests] == ["/info"]


async def test_info_from_a_server_that_is_not_tgi_is_an_error(tgi: FakeTGI) -> None:
    async with TgiGenerator(tgi.url + "/not-tgi") as wrong:
        with pytest.raises(GenerationError, match="unexpected HTTP 404"):
            await wrong.info()


async def test_tokenize_returns_the_server_token_ids(generator: TgiGenerator) -> None:
    text = "<human>: Wie geht's?"
    assert await generator.tokenize(text) == [fake_token_id(p) for p in fake_tokenize(text)]


async def test_tokenize_is_none_when_the_server_has_no_route_and_is_not_asked_again() -> None:
    async with FakeTGI(tokenize_enabled=False) as tgi, TgiGenerator(tgi.url) as generator:
        assert await generator.tokenize("a b") is None
        assert await generator.tokenize("c d") is None
    assert [r.path for r in tgi.requests] == ["/tokenize"]


async def test_health_follows_the_server(tgi: FakeTGI, generator: TgiGenerator) -> None:
    assert await generator.health()
    tgi.healthy = False
    assert not await generator.health()
    tgi.healthy = True
    assert await generator.health()
