"""Start-up warm-up: the model's limits are known and its connection open before any message."""

from __future__ import annotations

from bots.settings import Settings
from bots.wiring import build_dialog
from core.generation.pool import ReplicaPool
from tests.fakes.tgi import FakeInfo, FakeTGI, dead_url


async def test_the_replicas_limits_are_learned_before_the_first_message() -> None:
    async with FakeTGI(info=FakeInfo(max_concurrent_requests=16)) as tgi:
        async with build_dialog(Settings(tgi_urls=[tgi.url])) as dialog:
            assert isinstance(dialog.generator, ReplicaPool)
            assert [s.max_in_flight for s in dialog.generator.statuses()] == [16]
        assert [r.path for r in tgi.requests] == ["/info"]
        assert tgi.generation_requests() == []


async def test_a_model_not_answering_yet_does_not_stop_the_start() -> None:
    async with build_dialog(Settings(tgi_urls=[dead_url()])) as dialog:
        assert isinstance(dialog.generator, ReplicaPool)
        assert [s.max_in_flight for s in dialog.generator.statuses()] == [None]
