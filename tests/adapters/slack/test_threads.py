"""Thread memory: kept in the store across adapters, and harmless when the store is down."""

from __future__ import annotations

import logging

import pytest

from adapters.slack.threads import ThreadMemory
from core.dialog import DialogManager
from core.messages import ConversationRef, PlaceKind
from core.store.redis import RedisStore
from tests.adapters.contract import DialogRig

THREAD = ConversationRef("slack", "T0BLOOM01", "C0GENERAL", "1790000100.000200", PlaceKind.THREAD)
OTHER = ConversationRef("slack", "T0BLOOM01", "C0GENERAL", "1790000900.000900", PlaceKind.THREAD)


async def test_a_remembered_thread_is_known_to_a_new_memory(slack_rig: DialogRig) -> None:
    await ThreadMemory(slack_rig.dialog).remember(THREAD)
    later = ThreadMemory(slack_rig.dialog)  # as after a restart: only the store remembers
    assert await later.answers_in(THREAD)
    assert not await later.answers_in(OTHER)


async def test_a_store_that_is_down_remembers_nothing_and_raises_nothing(
    slack_rig: DialogRig, caplog: pytest.LogCaptureFixture
) -> None:
    async with RedisStore("redis://127.0.0.1:9/0", timeout_seconds=0.2, retries=0) as down:
        dialog = DialogManager(generator=slack_rig.dialog.generator, store=down)
        memory = ThreadMemory(dialog)
        with caplog.at_level(logging.WARNING):
            await memory.remember(THREAD)
            assert not await memory.answers_in(THREAD)
    assert "store failed" in caplog.text
