"""One default detector for the language tests: its models load once per test session."""

from __future__ import annotations

import pytest

from core.language.default_detector import DefaultDetector


@pytest.fixture(scope="session")
def detector() -> DefaultDetector:
    loaded = DefaultDetector()
    loaded.load()
    return loaded
