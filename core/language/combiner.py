"""The combiner: stages, exits and naming threshold, their JSON form, and the shipped weights."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from core.language.combination import StageWeights

COMBINER_FILE = "combiner.json"


@dataclass(frozen=True)
class NeighbourGroup:
    """Close neighbours (isiXhosa and isiZulu, say) and the weights that share their combined
    probability out again with a second, finer n-gram model (`core/language/neighbours.py`)."""

    languages: tuple[str, ...]
    stage: StageWeights


@dataclass(frozen=True)
class Combiner:
    """The stages' weights, where each stage may answer alone, and the naming threshold.

    Stage `i` answers alone when its best probability reaches `exits[i]` (the last stage always
    answers); when the best candidate belongs to one of `neighbours`, that group's probability
    is shared out again among its languages; the answer names a language when its probability
    reaches `min_confidence`, one threshold for texts of every length (the probabilities are on
    one scale).
    """

    stages: tuple[StageWeights, ...]
    exits: tuple[float, ...]
    min_confidence: float
    candidates: Mapping[str, tuple[str, ...]]
    neighbours: tuple[NeighbourGroup, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "stages": [_stage_json(stage) for stage in self.stages],
            "exits": list(self.exits),
            "min_confidence": self.min_confidence,
            "candidates": {script: list(codes) for script, codes in self.candidates.items()},
            "neighbours": [
                {"languages": list(group.languages), "stage": _stage_json(group.stage)}
                for group in self.neighbours
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Combiner:
        return cls(
            tuple(_stage_from_json(stage) for stage in data["stages"]),
            tuple(float(value) for value in data["exits"]),
            float(data["min_confidence"]),
            {script: tuple(codes) for script, codes in data["candidates"].items()},
            tuple(
                NeighbourGroup(tuple(group["languages"]), _stage_from_json(group["stage"]))
                for group in data.get("neighbours", ())
            ),
        )


def _stage_json(stage: StageWeights) -> dict[str, Any]:
    return {
        "features": list(stage.features),
        "weights": [round(float(value), 6) for value in stage.weights],
        "bias": {code: round(value, 6) for code, value in stage.bias.items()},
        "trust": {
            feature: {code: round(value, 6) for code, value in trust.items()}
            for feature, trust in stage.trust.items()
        },
    }


def _stage_from_json(data: Mapping[str, Any]) -> StageWeights:
    return StageWeights(
        tuple(data["features"]),
        np.array(data["weights"], dtype=np.float64),
        {str(code): float(value) for code, value in data["bias"].items()},
        {
            str(feature): {str(code): float(value) for code, value in trust.items()}
            for feature, trust in data["trust"].items()
        },
    )


_LOCK = threading.Lock()
_SHIPPED: list[Combiner] = []


def shipped_combiner() -> Combiner:
    """The combination weights in the package data, read once per process."""
    with _LOCK:
        if not _SHIPPED:
            folder = resources.files("core").joinpath("data", "language")
            text = folder.joinpath(COMBINER_FILE).read_text(encoding="utf-8")
            _SHIPPED.append(Combiner.from_json(json.loads(text)))
        return _SHIPPED[0]
