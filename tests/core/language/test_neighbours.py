"""The second look at close neighbours shares a group's probability out again, and only that."""

from __future__ import annotations

import numpy as np

from core.language.char_ngrams import NEIGHBOURS_FILE, CharNgramModel, shipped_model
from core.language.combination import StageWeights
from core.language.combiner import Combiner, NeighbourGroup, shipped_combiner
from core.language.neighbours import NEIGHBOUR_FEATURES, NEIGHBOUR_GROUPS, second_look

CANDIDATES = ("en", "xh", "zu", "other")


def listening_to_the_second_model() -> NeighbourGroup:
    """A group whose sharing follows the second model alone."""
    stage = StageWeights(NEIGHBOUR_FEATURES, np.array([0.0, 5.0]), {}, {})
    return NeighbourGroup(("xh", "zu"), stage)


def model_for(favoured: str) -> CharNgramModel:
    """A second model whose every n-gram speaks for `favoured` among isiXhosa and isiZulu."""
    bits = 8
    weights = np.zeros((1 << bits, 2), dtype=np.float32)
    weights[:, ("xh", "zu").index(favoured)] = 1.0
    return CharNgramModel(("xh", "zu"), weights, bits)


def test_the_group_total_and_the_other_candidates_stay_as_they_were() -> None:
    found = np.array([0.1, 0.6, 0.2, 0.1])
    text = "Sizakubona ngomso ekuseni."
    refined = second_look(
        text, CANDIDATES, found, (listening_to_the_second_model(),), model_for("zu")
    )
    assert refined[0] == found[0] and refined[3] == found[3]
    assert abs(refined[1] + refined[2] - 0.8) < 1e-12
    # Every n-gram speaks for isiZulu: the group's probability moves to it.
    assert refined[2] > 0.79


def test_text_whose_best_candidate_has_no_neighbours_is_left_alone() -> None:
    found = np.array([0.7, 0.2, 0.05, 0.05])
    text = "See you tomorrow morning."
    refined = second_look(
        text, CANDIDATES, found, (listening_to_the_second_model(),), model_for("zu")
    )
    assert refined is found


def test_the_shipped_combiner_looks_again_at_every_group() -> None:
    combiner = shipped_combiner()
    assert tuple(group.languages for group in combiner.neighbours) == NEIGHBOUR_GROUPS
    model = shipped_model(NEIGHBOURS_FILE)
    assert set(model.languages) == {code for group in NEIGHBOUR_GROUPS for code in group}
    for group in combiner.neighbours:
        assert all(code in combiner.candidates["Latin"] for code in group.languages)


def test_the_groups_survive_the_json_round_trip() -> None:
    combiner = shipped_combiner()
    again = Combiner.from_json(combiner.to_json())
    assert [group.languages for group in again.neighbours] == [
        group.languages for group in combiner.neighbours
    ]
    for before, after in zip(combiner.neighbours, again.neighbours, strict=True):
        np.testing.assert_allclose(after.stage.weights, before.stage.weights, atol=1e-6)
