"""An in-process classifier: any Hugging Face text-classification model from a local folder.

For operators who have a toxicity or hate-speech model of their own. `transformers` and
`torch` come with the `local` extra and are imported only when the model is first used; the
model runs in a worker thread so the event loop never waits on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.errors import ConfigurationError
from core.safety.base import Role, SafetyClassifier, SafetyVerdict
from core.safety.categories import ALL_CATEGORIES


def parse_label_map(pairs: list[str]) -> dict[str, str]:
    """`["toxic=hate", "obscene=obscenity"]` as a mapping from model label to category."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        label, separator, category = pair.partition("=")
        if not separator or category.strip() not in ALL_CATEGORIES:
            raise ConfigurationError(
                f"model label mapping {pair!r} must read label=category with a known category"
            )
        mapping[label.strip()] = category.strip()
    return mapping


class TextClassificationModel(SafetyClassifier):
    """Scores text with a local model; `labels` maps the model's labels to safety categories.

    Labels not in `labels` (such as "neutral" or "non-toxic") are ignored.
    """

    name = "local-model"

    def __init__(
        self, model_path: Path, labels: Mapping[str, str], *, max_chars: int = 4000
    ) -> None:
        self.model_path = model_path
        self.labels = dict(labels)
        self.max_chars = max_chars
        self._pipeline: Any = None
        self._loading = asyncio.Lock()

    def _load(self) -> Any:
        try:
            from transformers import pipeline
        except ImportError as exc:
            raise ConfigurationError(
                "a local safety model needs transformers: pip install 'bloombridge[local]'"
            ) from exc
        if not self.model_path.is_dir():
            raise ConfigurationError(f"safety model folder {self.model_path} does not exist")
        try:
            return pipeline(
                "text-classification", model=str(self.model_path), top_k=None, device=-1
            )
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"cannot load the safety model in {self.model_path}: {exc}"
            ) from exc

    async def load(self) -> None:
        """Load the model now (otherwise it is loaded on first use)."""
        async with self._loading:
            if self._pipeline is None:
                self._pipeline = await asyncio.to_thread(self._load)

    async def classify(
        self, text: str, *, language: str, role: Role, prompt: str = ""
    ) -> SafetyVerdict:
        await self.load()
        raw = await asyncio.to_thread(self._pipeline, text[-self.max_chars :], truncation=True)
        # One input gives a list of {label, score}; some versions nest it in another list.
        scores = raw[0] if raw and isinstance(raw[0], list) else raw
        found: dict[str, float] = {}
        for item in scores:
            category = self.labels.get(str(item["label"]))
            if category is not None:
                found[category] = max(found.get(category, 0.0), float(item["score"]))
        return SafetyVerdict(self.name, {c: s for c, s in found.items() if s > 0.0})

    async def aclose(self) -> None:
        self._pipeline = None
