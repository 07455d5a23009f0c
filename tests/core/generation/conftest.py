"""Fixtures: a fake TGI server on loopback and a TGI generator pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.generation.tgi import TgiGenerator
from tests.fakes.tgi import FakeTGI


@pytest.fixture
async def tgi() -> AsyncIterator[FakeTGI]:
    async with FakeTGI() as server:
        yield server


@pytest.fixture
async def generator(tgi: FakeTGI) -> AsyncIterator[TgiGenerator]:
    async with TgiGenerator(tgi.url, connect_timeout=2.0, first_token_timeout=5.0) as client:
        yield client
